// The CPU's int8 engine (GraphExecutor with Kernels::kInt8) against the f32 reference graph
// on synthetic models of every preset and quant mix (so every weight format: q4_K, q5_K,
// q6_K, q4_0, q4_1, q5_0, q5_1, q8_0, f16, f32) and on the Qwen2.5-Coder-0.5B shape:
// mean KL(reference || int8) over the positions < 1e-3 per file and top-1 agreement >= 99 %
// (the bounds), for a prompt prefilled in one T-token step and for token-by-token
// decode.
//
// The mean over a random prompt's positions is heavy-tailed: a near-tie position can hold a
// KL of 0.08 (llama.cpp's own CPU path: 0.03 to 0.05 at that position of that prompt), so
// the 0.5B shape's mean over 128 positions spread from 2e-4 to 1.06e-3 across seeds. It runs
// 512 positions: 2.6e-4 to 3.8e-4 over eight prompts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "frontend/qwen2/config.h"
#include "runtime/cpu/bricks.h"
#include "runtime/cpu/executor.h"
#include "test/unit/synth_model.h"

namespace brickc::cpu {
namespace {

using Logits = std::vector<std::vector<float>>;  // [position][vocab]
using OnLogits = std::function<void(int64_t position, std::span<const float> logits)>;

void run(const gguf::File& f, Kernels k, const std::vector<int32_t>& tokens, bool prefill,
         const OnLogits& on_logits) {
  GraphModelOptions o;
  o.n_threads = 2;
  o.n_ctx = static_cast<int64_t>(tokens.size());
  o.kernels = k;
  o.poison = true;
  GraphModel m(f, o, on_logits);
  if (prefill) {
    m.prefill(tokens);
  } else {
    for (int32_t t : tokens) m.decode(t);
  }
}

// The reference's log-probabilities at every position.
Logits reference(const gguf::File& f, const std::vector<int32_t>& tokens) {
  Logits out;
  run(f, Kernels::kReference, tokens, true, [&](int64_t, std::span<const float> l) {
    const double m = *std::max_element(l.begin(), l.end());
    double z = 0;
    for (float x : l) z += std::exp(x - m);
    const double shift = m + std::log(z);
    auto& row = out.emplace_back(l.size());
    for (size_t i = 0; i < l.size(); ++i) row[i] = static_cast<float>(l[i] - shift);
  });
  return out;
}

// Mean KL(ref || got) in nats and the share of positions whose argmax agrees, over the
// positions got's run reports (compared as they come: the 0.5B shape's 512 positions of
// 151,936 logits are 311 MB a run).
std::pair<double, double> agreement(const Logits& ref, const gguf::File& f, Kernels k,
                                    const std::vector<int32_t>& tokens, bool prefill) {
  double kl = 0, same = 0, n = 0;
  run(f, k, tokens, prefill, [&](int64_t p, std::span<const float> b) {
    const auto& la = ref.at(static_cast<size_t>(p));
    const double mb = *std::max_element(b.begin(), b.end());
    double zb = 0;
    for (float x : b) zb += std::exp(x - mb);
    const double shift = mb + std::log(zb);
    double d = 0;
    for (size_t i = 0; i < b.size(); ++i) d += std::exp(double{la[i]}) * (la[i] - (b[i] - shift));
    kl += d;
    same += std::ranges::max_element(la) - la.begin() == std::ranges::max_element(b) - b.begin();
    ++n;
  });
  EXPECT_EQ(n, static_cast<double>(tokens.size()));
  return {kl / n, same / n};
}

struct EngineCase {
  const char* preset;
  synth::QuantMix mix;
  std::optional<uint32_t> layers;
  size_t tokens;
};

std::vector<EngineCase> cases() {
  std::vector<EngineCase> v;
  using enum synth::QuantMix;
  for (const char* p : {"test-tiny", "test-small", "test-fallback"})
    for (auto m : {Q4_K_M, Q4_0, Q8_0, F16}) v.push_back({p, m, std::nullopt, 128});
  // With these every weight format of the issue runs: q5_K, q4_1, q5_1 and f32 only here.
  for (auto m : {Q5_K_M, Q6_K, Q4_1, Q5_0, Q5_1, F32}) v.push_back({"test-small", m, std::nullopt, 128});
  v.push_back({"qwen2.5-coder-0.5b", synth::QuantMix::Q4_K_M, 2, 512});
  return v;
}

// KL per file; top-1 pooled over all files' positions, because one flipped near-tie among
// one file's 128 positions is already 0.8 % of disagreement.
TEST(Int8Engine, AgreesWithTheF32ReferenceOnEveryMix) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "token seed " << seed);
  std::mt19937 rng(seed);
  double same = 0, positions = 0;
  for (const EngineCase& c : cases()) {
    const gguf::File& f = testing::synth_model(c.preset, c.mix, c.layers);
    std::uniform_int_distribution<int32_t> id(0, static_cast<int32_t>(qwen2::read_config(f).n_vocab) - 1);
    std::vector<int32_t> tokens(c.tokens);
    for (auto& t : tokens) t = id(rng);
    const Logits ref = reference(f, tokens);
    ASSERT_EQ(ref.size(), tokens.size());
    for (bool prefill : {true, false}) {
      const auto [kl, top1] = agreement(ref, f, Kernels::kInt8, tokens, prefill);
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
