// The CPU's int8 engine (GraphExecutor with Kernels::kInt8) against the f32 reference graph
// on synthetic models of every preset and quant mix and on the Qwen2.5-Coder-0.5B shape:
// mean KL(reference || int8) over the positions < 1e-3 per file and top-1 agreement >= 99 %
// (the bounds), for a prompt prefilled in one T-token step and for token-by-token
// decode.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "frontend/qwen2/config.h"
#include "runtime/cpu/bricks.h"
#include "runtime/cpu/executor.h"
#include "test/unit/synth_model.h"

namespace brickc::cpu {
namespace {

constexpr int64_t kTokens = 128;
using Logits = std::vector<std::vector<float>>;  // [position][vocab]

Logits run(const gguf::File& f, Kernels k, const std::vector<int32_t>& tokens, bool prefill) {
  GraphModelOptions o;
  o.n_threads = 2;
  o.n_ctx = kTokens;
  o.kernels = k;
  o.poison = true;
  Logits out;
  GraphModel m(f, o, [&](int64_t, std::span<const float> l) { out.emplace_back(l.begin(), l.end()); });
  if (prefill) {
    m.prefill(tokens);
  } else {
    for (int32_t t : tokens) m.decode(t);
  }
  return out;
}

// Mean KL(p || q) in nats and the share of positions whose argmax agrees.
std::pair<double, double> agreement(const Logits& ref, const Logits& got) {
  double kl = 0, same = 0;
  for (size_t p = 0; p < ref.size(); ++p) {
    const auto& a = ref[p];
    const auto& b = got[p];
    const double ma = *std::max_element(a.begin(), a.end()), mb = *std::max_element(b.begin(), b.end());
    double za = 0, zb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      za += std::exp(a[i] - ma);
      zb += std::exp(b[i] - mb);
    }
    double d = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      const double la = a[i] - ma - std::log(za), lb = b[i] - mb - std::log(zb);
      d += std::exp(la) * (la - lb);
    }
    kl += d;
    same += std::max_element(a.begin(), a.end()) - a.begin() == std::max_element(b.begin(), b.end()) - b.begin();
  }
  return {kl / static_cast<double>(ref.size()), same / static_cast<double>(ref.size())};
}

struct EngineCase {
  const char* preset;
  synth::QuantMix mix;
  std::optional<uint32_t> layers;
};

std::vector<EngineCase> cases() {
  std::vector<EngineCase> v;
  for (const char* p : {"test-tiny", "test-small", "test-fallback"})
    for (auto m : {synth::QuantMix::Q4_K_M, synth::QuantMix::Q4_0, synth::QuantMix::Q8_0,
                   synth::QuantMix::F16})
      v.push_back({p, m, std::nullopt});
  v.push_back({"qwen2.5-coder-0.5b", synth::QuantMix::Q4_K_M, 2});
  return v;
}

// KL per file; top-1 pooled over all files' positions, because one flipped near-tie among
// one file's positions is already 1/kTokens of disagreement.
TEST(Int8Engine, AgreesWithTheF32ReferenceOnEveryMix) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "token seed " << seed);
  std::mt19937 rng(seed);
  double same = 0, positions = 0;
  for (const EngineCase& c : cases()) {
    const gguf::File& f = testing::synth_model(c.preset, c.mix, c.layers);
    std::uniform_int_distribution<int32_t> id(0, static_cast<int32_t>(qwen2::read_config(f).n_vocab) - 1);
    std::vector<int32_t> tokens(kTokens);
    for (auto& t : tokens) t = id(rng);
    const Logits ref = run(f, Kernels::kReference, tokens, true);
    ASSERT_EQ(ref.size(), tokens.size());
    for (bool prefill : {true, false}) {
      const Logits got = run(f, Kernels::kInt8, tokens, prefill);
      ASSERT_EQ(got.size(), tokens.size());
      const auto [kl, top1] = agreement(ref, got);
      const std::string what = std::string(c.preset) + " " + std::string(synth::name(c.mix)) +
                               (c.layers ? " (2 layers)" : "") + (prefill ? ", prefill" : ", decode");
      std::printf("  %s: mean KL %.2e, top-1 %.1f%%\n", what.c_str(), kl, 100 * top1);
      EXPECT_LT(kl, 1e-3) << what;
      same += top1 * static_cast<double>(tokens.size());
      positions += static_cast<double>(tokens.size());
    }
  }
  std::printf("  top-1 over all %g positions: %.2f%%\n", positions, 100 * same / positions);
  EXPECT_GE(same / positions, 0.99);
}

}  // namespace
}  // namespace brickc::cpu
