// A synthesized model file shared by the tests of one binary: written once per preset, mix,
// layer count and seed, opened, and unlinked (the mapping stays readable).
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "frontend/gguf/reader.h"
#include "frontend/synth/synth.h"

namespace brickc::testing {

inline const gguf::File& synth_model(const std::string& preset, synth::QuantMix mix,
                                     std::optional<uint32_t> layers = {}, uint64_t seed = 7) {
  static std::map<std::string, std::unique_ptr<gguf::File>> cache;
  const std::string key = preset + "_" + std::string(synth::name(mix)) + "_" +
                          (layers ? std::to_string(*layers) : "all") + "_" + std::to_string(seed);
  auto& f = cache[key];
  if (!f) {
    const std::string path =
        ::testing::TempDir() + "brickc_" + key + "_" + std::to_string(::getpid()) + ".gguf";
    synth::Options o;
    o.model = preset;
    o.mix = mix;
    o.layers = layers;
    o.seed = seed;
    synth::synthesize(o, path);
    f = gguf::File::open(path);
    std::remove(path.c_str());
  }
  return *f;
}

}  // namespace brickc::testing
