// Shared by the GPU tests: skip with the reason when CUDA is unusable, one context per
// process, synthetic models written once per test binary run.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "frontend/gguf/reader.h"
#include "frontend/synth/synth.h"
#include "runtime/cuda/context.h"
#include "runtime/cuda/driver.h"

namespace brickc::testing {

#define BRICKC_REQUIRE_GPU()                                                          \
  do {                                                                                \
    if (!::brickc::cuda::probe().usable())                                            \
      GTEST_SKIP() << "no usable GPU: " << ::brickc::cuda::probe().why_unusable(); \
  } while (0)

inline cuda::Context& gpu_context() {
  static cuda::Context ctx(0);
  return ctx;
}

// A synthetic model (preset, mix, layers), written to the temp dir on first use.
inline const gguf::File& synth_model(const std::string& preset, synth::QuantMix mix,
                                     uint32_t layers, uint64_t seed = 7) {
  static std::map<std::string, std::unique_ptr<gguf::File>> cache;
  const std::string key = preset + "_" + std::string(synth::name(mix)) + "_" +
                          std::to_string(layers) + "_" + std::to_string(seed);
  auto& f = cache[key];
  if (!f) {
    const std::string path = ::testing::TempDir() + "brickc_gpu_" + key + ".gguf";
    synth::Options o;
    o.model = preset;
    o.mix = mix;
    o.layers = layers;
    o.seed = seed;
    synth::synthesize(o, path);
    f = gguf::File::open(path);
  }
  return *f;
}

}  // namespace brickc::testing
