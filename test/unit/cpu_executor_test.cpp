// The CPU executor of Brick IR on synthetic models of every test preset and quant mix:
// the imported graph, the graph after the default pipeline (and after each pass alone)
// and Qwen2Model agree on every position's logits; plus the timing hook and the errors.
//
// Agreement is measured per position as max |a - b| / max |b| over the vocabulary and must
// stay within 1e-5 (the bound); the argmax must be identical.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "frontend/gguf/reader.h"
#include "frontend/qwen2/importer.h"
#include "frontend/quant/quant.h"
#include "frontend/synth/presets.h"
#include "frontend/synth/synth.h"
#include "ir/error.h"
#include "passes/pass_manager.h"
#include "passes/registry.h"
#include "runtime/cpu/bricks.h"
#include "runtime/cpu/executor.h"
#include "runtime/cpu/forward.h"

namespace brickc::cpu {
namespace {

constexpr int64_t kTokens = 32;
constexpr int64_t kCtx = 64;
constexpr double kTolerance = 1e-5;

using Logits = std::vector<std::vector<float>>;  // [position][vocab]

struct ModelCase {
  std::string preset;
  synth::QuantMix mix;
};

std::string case_name(const ModelCase& c);
void PrintTo(const ModelCase& c, std::ostream* os) { *os << case_name(c); }

std::string case_name(const ModelCase& c) {
  std::string s = c.preset + "_" + std::string(synth::name(c.mix));
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

// One synthesized file per case, written once per test binary run (synthesis dominates
// otherwise); the seed is fixed per case so that a failure reproduces.
const gguf::File& model_file(const ModelCase& c) {
  static std::map<std::string, std::unique_ptr<gguf::File>> files;
  const std::string key = case_name(c);
  auto it = files.find(key);
  if (it != files.end()) return *it->second;
  synth::Options o;
  o.model = c.preset;
  o.mix = c.mix;
  o.seed = std::hash<std::string>{}(key) % 1000;
  o.threads = 2;
  const std::string path = ::testing::TempDir() + "brickc_executor_" + key + ".gguf";
  synth::synthesize(o, path);
  return *files.emplace(key, gguf::File::open(path)).first->second;
}

// Fresh random prompt ids; the seed is in the failure message.
std::vector<int32_t> random_tokens(const gguf::File& f, uint32_t seed) {
  const auto n_vocab = static_cast<int32_t>(qwen2::read_config(f).n_vocab);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> d(0, n_vocab - 1);
  std::vector<int32_t> t(kTokens);
  for (auto& x : t) x = d(rng);
  return t;
}

GraphModelOptions options(int64_t n_ctx, std::optional<std::string> passes = std::nullopt) {
  GraphModelOptions o;
  o.n_threads = 2;
  o.n_ctx = n_ctx;
  o.passes = std::move(passes);
  o.poison = true;
  return o;
}

Logits run_graph(const gguf::File& f, std::optional<std::string> passes,
                 const std::vector<int32_t>& tokens) {
  GraphModel m(f, options(kCtx, std::move(passes)));
  Logits out;
  for (int32_t t : tokens) {
    m.decode(t);
    auto l = m.logits();
    out.emplace_back(l.begin(), l.end());
  }
  return out;
}

Logits run_direct(const gguf::File& f, const std::vector<int32_t>& tokens) {
  Qwen2Model m(f, {2, kCtx, Activations::kF32});
  Logits out;
  m.prefill(tokens,
            [&](int64_t, std::span<const float> l) { out.emplace_back(l.begin(), l.end()); });
  return out;
}

// Largest per-position relative difference; fails on a NaN, a length or an argmax mismatch.
double compare(const Logits& a, const Logits& b, const std::string& what) {
  EXPECT_EQ(a.size(), b.size()) << what;
  double worst = 0;
  for (size_t p = 0; p < std::min(a.size(), b.size()); ++p) {
    EXPECT_EQ(a[p].size(), b[p].size()) << what;
    double diff = 0, scale = 0;
    for (size_t i = 0; i < a[p].size(); ++i) {
      EXPECT_FALSE(std::isnan(a[p][i]) || std::isnan(b[p][i]))
          << what << ": NaN at position " << p << ", logit " << i;
      if (std::isnan(a[p][i]) || std::isnan(b[p][i])) return INFINITY;
      diff = std::max(diff, std::abs(static_cast<double>(a[p][i]) - b[p][i]));
      scale = std::max(scale, std::abs(static_cast<double>(b[p][i])));
    }
    const double rel = diff / scale;
    EXPECT_LE(rel, kTolerance) << what << ": position " << p;
    EXPECT_EQ(std::max_element(a[p].begin(), a[p].end()) - a[p].begin(),
              std::max_element(b[p].begin(), b[p].end()) - b[p].begin())
        << what << ": position " << p;
    worst = std::max(worst, rel);
  }
  return worst;
}

const std::vector<ModelCase>& all_cases() {
  static const std::vector<ModelCase> cases = [] {
    std::vector<ModelCase> c;
    for (const char* p : {"test-tiny", "test-small", "test-fallback"})
      for (auto m : {synth::QuantMix::Q4_K_M, synth::QuantMix::Q4_0, synth::QuantMix::Q8_0,
                     synth::QuantMix::F16})
        c.push_back({p, m});
    return c;
  }();
  return cases;
}

class ExecutorModels : public ::testing::TestWithParam<ModelCase> {};

TEST_P(ExecutorModels, DefaultPipelineKeepsLogits) {
  const gguf::File& f = model_file(GetParam());
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "token seed " << seed);
  const auto tokens = random_tokens(f, seed);

  const Logits unopt = run_graph(f, std::string{}, tokens);
  const Logits opt = run_graph(f, std::nullopt, tokens);
  const Logits direct = run_direct(f, tokens);
  const double a_b = compare(opt, unopt, "optimized vs imported graph");
  const double b_c = compare(opt, direct, "optimized graph vs Qwen2Model");
  std::printf("  %s: max relative diff optimized/imported %.3g, optimized/direct %.3g\n",
              case_name(GetParam()).c_str(), a_b, b_c);
}

TEST_P(ExecutorModels, EachPassAloneKeepsLogits) {
  const gguf::File& f = model_file(GetParam());
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "token seed " << seed);
  const auto tokens = random_tokens(f, seed);
  const Logits unopt = run_graph(f, std::string{}, tokens);
  for (const auto& p : passes::registered_passes()) {
    const double d = compare(run_graph(f, std::string(p.name), tokens), unopt,
                             "--passes=" + std::string(p.name));
    EXPECT_LE(d, kTolerance) << p.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Synth, ExecutorModels, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) { return case_name(info.param); });

// A prompt's T-token steps spread their norms, SwiGLU, adds and RoPE over the pool by
// tokens and values: each value is computed by one thread with the same code, so every
// position's logits must be bit for bit those of one thread, for both kernel sets (a
// scratch buffer shared between threads would not give that).
TEST(CpuExecutor, APromptsLogitsDoNotDependOnTheThreadCount) {
  const gguf::File& f = model_file({"test-small", synth::QuantMix::Q4_K_M});
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "token seed " << seed);
  const auto tokens = random_tokens(f, seed);
  for (Kernels k : {Kernels::kReference, Kernels::kInt8}) {
    auto prompt_logits = [&](int threads) {
      GraphModelOptions o = options(kCtx);
      o.n_threads = threads;
      o.kernels = k;
      Logits out;
      GraphModel m(f, o, [&](int64_t, std::span<const float> l) { out.emplace_back(l.begin(), l.end()); });
      m.prefill(tokens);
      return out;
    };
    const Logits one = prompt_logits(1), four = prompt_logits(4);
    ASSERT_EQ(one.size(), tokens.size());
    ASSERT_EQ(four.size(), tokens.size());
    for (size_t p = 0; p < one.size(); ++p)
      ASSERT_TRUE(one[p] == four[p]) << (k == Kernels::kInt8 ? "int8" : "f32") << " kernels, position " << p;
  }
}

// The default pipeline must leave composite bricks for the executor to run, or the
// equivalence above checks nothing. Every Qwen2 norm has one reader once q, k, v merge and
// gate/up fuse, so no standalone rmsnorm may remain; rmsnorm_matvec needs a norm with a
// single plain matvec reader (SplitNormsFuseToRmsnormMatvec covers it).
TEST(CpuExecutor, OptimizedGraphHasComposites) {
  for (const auto& c : all_cases()) {
    const gguf::File& f = model_file(c);
    GraphModel m(f, options(kCtx));
    std::map<ir::BrickKind, int> kinds;
    bool q8_1 = false;
    const ir::Graph& g = m.executor().graph();
    for (const auto& b : g.bricks()) {
      ++kinds[b.kind];
      for (auto r : b.results) q8_1 = q8_1 || g.type(r).elem == DType::Q8_1;
    }
    for (auto k : {ir::BrickKind::RmsnormQkv, ir::BrickKind::RmsnormGateUpSwiglu,
                   ir::BrickKind::RmsnormLmHead, ir::BrickKind::RopeKvAppend,
                   ir::BrickKind::MatvecAdd})
      EXPECT_GT(kinds[k], 0) << ir::keyword(k) << " in " << case_name(c);
    EXPECT_EQ(kinds[ir::BrickKind::Rmsnorm], 0) << "standalone rmsnorm in " << case_name(c);
    // Int8 activations (the fused FFN's output for ffn_down) only before integer-block
    // weights.
    if (c.preset == "test-tiny" &&
        (c.mix == synth::QuantMix::Q4_K_M || c.mix == synth::QuantMix::F16)) {
      EXPECT_EQ(q8_1, c.mix == synth::QuantMix::Q4_K_M) << case_name(c);
    }
  }
}

// Layer 0's k and v matvecs get their own copies of the attention norm, so that each
// norm has a single matvec reader, the pattern fuse-rmsnorm-matvec rewrites.
ir::Graph split_norms(const gguf::File& f) {
  ir::Graph g = qwen2::import_qwen2(f, {kCtx, 1});
  const ir::ValueId h = *g.find("h.0");
  const ir::Brick norm = g.bricks()[*g.producer(h)];
  for (const char* reader : {"k.0", "v.0"}) {
    const size_t j = *g.producer(*g.find(reader));
    ir::Brick copy = norm;
    copy.results = {g.add_result_value(g.unique_name("h.0"), g.type(h))};
    g.bricks()[j].operands[0] = copy.results[0];
    g.bricks().insert(g.bricks().begin() + static_cast<std::ptrdiff_t>(j), std::move(copy));
  }
  return g;
}

Logits run_executor(const gguf::File& f, ir::Graph g, const std::vector<int32_t>& tokens) {
  GraphExecutor e(f, std::move(g), 2);
  Logits out;
  for (size_t p = 0; p < tokens.size(); ++p) {
    e.poison();
    e.step(tokens[p], static_cast<int64_t>(p));
    out.emplace_back(e.logits().begin(), e.logits().end());
  }
  return out;
}

ir::Graph optimize(ir::Graph g, std::string_view pipeline) {
  passes::PassManager pm(passes::parse_pipeline(pipeline));
  pm.verify_each = true;
  pm.run(g);
  return g;
}

int count(const ir::Graph& g, ir::BrickKind k) {
  return static_cast<int>(std::count_if(g.bricks().begin(), g.bricks().end(),
                                        [&](const ir::Brick& b) { return b.kind == k; }));
}

TEST(CpuExecutor, SplitNormsFuseToRmsnormMatvec) {
  for (auto mix : {synth::QuantMix::Q4_K_M, synth::QuantMix::Q8_0}) {
    const gguf::File& f = model_file({"test-small", mix});
    const uint32_t seed = std::random_device{}();
    SCOPED_TRACE(::testing::Message() << synth::name(mix) << ", token seed " << seed);
    const auto tokens = random_tokens(f, seed);
    const Logits imported = run_executor(f, qwen2::import_qwen2(f, {kCtx, 1}), tokens);
    const Logits split = run_executor(f, split_norms(f), tokens);
    compare(split, imported, "split norms vs imported graph");

    ir::Graph fused = optimize(split_norms(f), "fuse-rmsnorm-matvec");
    EXPECT_EQ(count(fused, ir::BrickKind::RmsnormMatvec), 3);
    compare(run_executor(f, std::move(fused), tokens), imported, "fuse-rmsnorm-matvec");

    std::string pipeline;
    for (auto n : passes::default_pipeline()) pipeline += std::string(n) + ",";
    ir::Graph all = optimize(split_norms(f), pipeline);
    EXPECT_EQ(count(all, ir::BrickKind::RmsnormMatvec), 3);
    EXPECT_EQ(count(all, ir::BrickKind::RmsnormQkv), 3);  // the other layers still merge
    EXPECT_EQ(count(all, ir::BrickKind::Rmsnorm), 0);
    compare(run_executor(f, std::move(all), tokens), imported, "default pipeline, split norms");
  }
}

TEST(CpuExecutor, TimesEveryBrick) {
  const gguf::File& f = model_file({"test-tiny", synth::QuantMix::Q8_0});
  GraphModel m(f, options(kCtx));
  m.decode(1);
  const auto& us = m.executor().brick_us();
  ASSERT_EQ(us.size(), m.executor().graph().bricks().size());
  double total = 0;
  for (double t : us) {
    EXPECT_GE(t, 0.0);
    total += t;
  }
  EXPECT_GT(total, 0.0);
}

// poison() reaches every brick result but the caches, and a step overwrites all of them:
// what makes the NaN-poisoned comparisons above meaningful.
TEST(CpuExecutor, StepWritesEveryPoisonedResult) {
  const gguf::File& f = model_file({"test-tiny", synth::QuantMix::Q4_K_M});
  GraphModel m(f, options(kCtx));
  GraphExecutor& e = m.executor();
  const ir::Graph& g = e.graph();
  auto each_result = [&](auto check) {
    for (const auto& b : g.bricks())
      for (size_t r = 0; r < b.results.size(); ++r) {
        const bool cache =
            (b.kind == ir::BrickKind::KvAppend) || (b.kind == ir::BrickKind::RopeKvAppend && r > 0);
        const ir::ValueId v = b.results[r];
        // Poisoned i32 results (the argmax) hold -1.
        const bool poisoned = g.type(v).elem == DType::I32
                                  ? e.i32(v) < 0
                                  : std::any_of(e.f32(v).begin(), e.f32(v).end(),
                                                [](float x) { return std::isnan(x); });
        check(poisoned, cache, v);
      }
  };
  e.poison();
  each_result([&](bool poisoned, bool cache, ir::ValueId v) {
    EXPECT_EQ(poisoned, !cache) << g.value(v).name;
  });
  e.step(3, 0);
  each_result(
      [&](bool poisoned, bool, ir::ValueId v) { EXPECT_FALSE(poisoned) << g.value(v).name; });
}

// A q8_0 cache holds the q8_0 rounding of what is written to it (quant::quantize and
// dequantize, which test_quant_vs_gguf.py checks against the gguf package), a whole block
// at a time: values read back and written again stay as they were, which is how --verify
// copies one engine's cache into the reference's. In both engines, for K and V.
TEST(CpuExecutor, AQ8_0CacheHoldsTheRoundingOfItsBlocks) {
  const gguf::File& f = model_file({"test-tiny", synth::QuantMix::Q4_K_M});
  const uint32_t seed = std::random_device{}();
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 2.0f);
  for (Kernels k : {Kernels::kReference, Kernels::kInt8}) {
    GraphModelOptions o = options(kCtx);
    o.kernels = k;
    o.cache = {DType::Q8_0, DType::Q8_0};
    GraphModel m(f, o);
    GraphExecutor& e = m.executor();
    for (const char* name : {"kcache.0", "vcache.1"}) {
      const ir::ValueId c = *e.graph().find(name);
      ASSERT_EQ(e.graph().type(c).elem, DType::Q8_0);
      const int64_t n = e.graph().type(c).shape.elements();
      std::vector<float> x(static_cast<size_t>(n)), want(x.size());
      for (float& v : x) v = d(rng);
      std::vector<uint8_t> blocks(static_cast<size_t>(n / 32 * 34));
      quant::quantize(DType::Q8_0, x.data(), blocks.data(), n);
      quant::dequantize(DType::Q8_0, blocks.data(), want.data(), n);
      e.write(c, 0, x);
      const std::vector<float> got = e.read(c, 0, n);
      ASSERT_EQ(got, want) << name << ", seed " << seed;
      e.write(c, 0, got);
      ASSERT_EQ(e.read(c, 0, n), want) << name << " written back, seed " << seed;
    }
  }
}

// Greedy decoding takes the graph's argmax brick (computed with the step) rather than a
// second scan of the logits: it must be the first index of the largest logit, after a
// prompt step and after every decode step, for both kernel sets.
TEST(CpuExecutor, GreedyTokenIsTheFirstLargestLogit) {
  const gguf::File& f = model_file({"test-small", synth::QuantMix::Q4_K_M});
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "token seed " << seed);
  const auto prompt = random_tokens(f, seed);
  for (Kernels k : {Kernels::kReference, Kernels::kInt8}) {
    GraphModelOptions o = options(kCtx);
    o.kernels = k;
    GraphModel m(f, o);
    ASSERT_TRUE(m.executor().argmax().has_value()) << "the decode graph has no argmax brick";
    m.prefill(prompt);
    for (int step = 0; step < 8; ++step) {
      const std::span<const float> l = m.logits();
      const auto want = static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
      const int32_t got = m.argmax();
      ASSERT_EQ(got, want) << "step " << step;
      m.decode(got);
    }
  }
}

TEST(CpuExecutor, ResetRestartsTheSequence) {
  const gguf::File& f = model_file({"test-tiny", synth::QuantMix::Q4_0});
  GraphModel m(f, options(kCtx));
  const std::vector<int32_t> t = {5, 6, 7};
  m.prefill(t);
  auto first = m.logits();
  const std::vector<float> a(first.begin(), first.end());
  m.reset();
  EXPECT_EQ(m.n_past(), 0);
  m.prefill(t);
  auto again = m.logits();
  EXPECT_EQ(a, std::vector<float>(again.begin(), again.end()));
}

TEST(CpuExecutor, RejectsBadSteps) {
  const gguf::File& f = model_file({"test-tiny", synth::QuantMix::Q8_0});
  GraphModel m(f, options(4));
  const auto n_vocab = static_cast<int32_t>(qwen2::read_config(f).n_vocab);
  EXPECT_THROW(m.decode(n_vocab), Error);
  EXPECT_THROW(m.decode(-1), Error);
  EXPECT_THROW(m.executor().step(1, 4), Error);
  const std::vector<int32_t> five(5, 1);
  EXPECT_THROW(m.prefill(five), Error);
  EXPECT_THROW(GraphModel(f, options(0)), Error);
  EXPECT_THROW(GraphModel(f, options(4, "fuse-everything")), Error);
}

TEST(CpuExecutor, RejectsWeightsThatDoNotMatchTheFile) {
  const gguf::File& f = model_file({"test-tiny", synth::QuantMix::Q8_0});
  auto broken = [&](auto edit) {
    ir::Graph g = qwen2::import_qwen2(f, {kCtx, 1});
    edit(g);
    return g;
  };
  // A weight bound to a tensor of another shape, and to a missing tensor.
  auto swap =
      broken([](ir::Graph& g) { g.value(*g.find("w.attn_q.0")).tensor = "blk.0.attn_k.weight"; });
  try {
    GraphExecutor e(f, std::move(swap));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("blk.0.attn_k.weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("w.attn_q.0"), std::string::npos) << e.what();
  }
  auto missing = broken([](ir::Graph& g) { g.value(*g.find("w.attn_q.0")).tensor = "nope"; });
  EXPECT_THROW(GraphExecutor(f, std::move(missing)), Error);
}

}  // namespace
}  // namespace brickc::cpu
