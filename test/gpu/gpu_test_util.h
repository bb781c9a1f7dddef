// Shared by the GPU tests: skip with the reason when CUDA is unusable, one context per
// process, synthetic models (test/unit/synth_model.h).
#pragma once
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>
#include <string_view>
#include <thread>

#include "runtime/brick_check.h"
#include "runtime/cuda/context.h"
#include "runtime/cuda/driver.h"
#include "runtime/decode_graph.h"
#include "test/unit/synth_model.h"
#include "test/unit/tiny_qwen2.h"

namespace brickc::testing {

// BRICKC_REQUIRE_GPU=1 in the environment (the device script sets it) turns a skip for
// want of a GPU into a failure, so that a GPU run cannot pass by skipping.
inline bool gpu_required() {
  const char* env = std::getenv("BRICKC_REQUIRE_GPU");
  return env && std::string_view(env) == "1";
}

#define BRICKC_REQUIRE_GPU()                                                                   \
  do {                                                                                         \
    if (!::brickc::cuda::probe().usable()) {                                                   \
      if (::brickc::testing::gpu_required())                                                   \
        FAIL() << "BRICKC_REQUIRE_GPU=1, but no usable GPU: " << ::brickc::cuda::probe().why_unusable(); \
      GTEST_SKIP() << "no usable GPU: " << ::brickc::cuda::probe().why_unusable();             \
    }                                                                                          \
  } while (0)

// K and V both q8_0 (--cache-type-k/v q8_0), the cache the GPU holds besides f16.
inline constexpr runtime::CacheTypes kQ8_0Cache{DType::Q8_0, DType::Q8_0};

// ", q8_0 cache" for a test's log line; nothing for the default f16 cache.
inline std::string cache_label(runtime::CacheTypes cache) {
  if (cache == runtime::CacheTypes{}) return "";
  return cache.k == cache.v ? fmt::format(", {} cache", name(cache.k))
                            : fmt::format(", k {} v {} cache", name(cache.k), name(cache.v));
}

// Brick checks of many steps (runtime/brick_check.h): each failed check fails the test (the
// first ten are described), and the worst check of each brick kind is printed at the end.
class BrickCheckLog {
 public:
  explicit BrickCheckLog(std::string what) : what_(std::move(what)) {}
  void add(const std::vector<runtime::BrickResult>& results) {
    for (const runtime::BrickResult& r : results) {
      auto& w = worst_[r.kind];
      if (r.max_rel >= w.max_rel || !r.finite) w = r;
      if (!r.ok() && failures_++ < 10) ADD_FAILURE() << what_ << ": " << runtime::describe(r);
    }
  }
  void print() const {
    std::printf("  %s:\n", what_.c_str());
    for (const auto& [kind, r] : worst_)
      std::printf("    %-24s max rel err %.3g (tolerance %.3g)\n", kind.c_str(), r.max_rel,
                  r.tolerance);
  }

 private:
  std::string what_;
  std::map<std::string, runtime::BrickResult> worst_;
  int failures_ = 0;
};

// Every position's logits of one run.
using Logits = std::vector<std::vector<float>>;

inline std::vector<double> log_softmax(std::span<const float> l) {
  double mx = -INFINITY, sum = 0;
  for (float v : l) mx = std::max(mx, static_cast<double>(v));
  for (float v : l) sum += std::exp(v - mx);
  std::vector<double> out(l.size());
  for (size_t i = 0; i < l.size(); ++i) out[i] = l[i] - mx - std::log(sum);
  return out;
}

// A model in the formats no quant mix uses (q4_1 attention, q5_K gate/up, q5_1 down, q6_K
// embeddings) at 1.5B shapes, written to a temporary file named `name`, random weights.
inline std::unique_ptr<gguf::File> other_formats_model(const std::string& name, uint32_t layers,
                                                       uint32_t n_ctx) {
  TinyShape s;
  s.n_layer = layers;
  s.n_embd = 1536;
  s.n_head = 12;
  s.n_head_kv = 2;
  s.n_ff = 8960;
  s.n_vocab = 512;
  s.n_ctx = n_ctx;
  s.attn = DType::Q4_1;
  s.ffn = DType::Q5_K;
  s.ffn_down = DType::Q5_1;
  s.embd = DType::Q6_K;
  const std::string path = temp_path(name);
  tiny_qwen2(s, std::random_device{}()).write(path);
  return gguf::File::open(path);
}

inline int32_t first_max(std::span<const float> l) {
  return static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
}

// Two runs over the same positions: mean KL(p || q) of their softmax distributions, the
// share of positions whose largest logit is the same, and the share where they differ at a
// near tie: p's logit of its own first token leads its logit of q's by at most kNearTie. On
// random synthetic models one position in several hundred is such a tie, which rounding
// alone may flip (test/ref/test_cpu_vs_llamacpp.py allows llama.cpp the same 0.05).
struct Agreement {
  double mean_kl = 0, top1 = 0, near_ties = 0;
  // What the 99 % bars count: the same first token, or a near tie.
  double top1_or_tie() const { return top1 + near_ties; }
};
inline constexpr float kNearTie = 0.05f;
inline Agreement agreement(const Logits& p_logits, const Logits& q_logits) {
  Agreement a;
  for (size_t pos = 0; pos < p_logits.size(); ++pos) {
    const auto p = log_softmax(p_logits[pos]), q = log_softmax(q_logits[pos]);
    for (size_t i = 0; i < p.size(); ++i) a.mean_kl += std::exp(p[i]) * (p[i] - q[i]);
    const int32_t tp = first_max(p_logits[pos]), tq = first_max(q_logits[pos]);
    a.top1 += tp == tq;
    a.near_ties += tp != tq && p_logits[pos][tp] - p_logits[pos][tq] <= kNearTie;
  }
  const auto n = static_cast<double>(p_logits.size());
  a.mean_kl /= n;
  a.top1 /= n;
  a.near_ties /= n;
  return a;
}

inline cuda::Context& gpu_context() {
  static cuda::Context ctx(0);
  return ctx;
}

}  // namespace brickc::testing
