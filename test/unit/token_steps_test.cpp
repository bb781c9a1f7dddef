// The token dimension on the CPU: a prompt evaluated in T-token steps (the prefill graph,
// in chunks of T) gives every position the logits that T one-token steps give, and leaves
// the KV cache so that decoding continues alike. T = 1, 2, 7, 37 (a multiple of no tile
// size), 64 and 512; prompts span several chunks and end in a partial one.
//
// Agreement per position: max |a - b| / max |b| over the vocabulary within 1e-5, and the
// same argmax. (The CPU bricks form every sum in one order whatever the token count, so
// the two agree to the bit in practice; the bound is the executor tests' bound.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "frontend/gguf/reader.h"
#include "frontend/qwen2/importer.h"
#include "ir/error.h"
#include "ir/verifier.h"
#include "runtime/cpu/bricks.h"
#include "runtime/cpu/executor.h"
#include "test/unit/tiny_qwen2.h"

namespace brickc::cpu {
namespace {

using testing::TinyShape;
using Logits = std::vector<std::vector<float>>;  // [position][vocab]

constexpr double kTolerance = 1e-5;
constexpr int64_t kCtx = 1024;

const gguf::File& tiny_file() {
  static std::unique_ptr<gguf::File> f = [] {
    const std::string path = testing::temp_path("token_steps.gguf");
    TinyShape s;
    s.n_ctx = kCtx;
    s.n_vocab = 300;
    testing::tiny_qwen2(s, 11).write(path);
    return gguf::File::open(path);
  }();
  return *f;
}

std::vector<int32_t> random_tokens(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> d(0, 299);
  std::vector<int32_t> t(n);
  for (auto& x : t) x = d(rng);
  return t;
}

GraphModelOptions options(int64_t ubatch) {
  GraphModelOptions o;
  o.n_threads = 2;
  o.n_ctx = kCtx;
  o.n_ubatch = ubatch;
  o.poison = true;  // every result NaN before each step: nothing is read before written
  return o;
}

// Every position's logits of `prompt` evaluated with micro-batch `ubatch`, then those of
// `more` tokens decoded one at a time after it.
Logits run(int64_t ubatch, const std::vector<int32_t>& prompt, const std::vector<int32_t>& more) {
  Logits out;
  GraphModel m(tiny_file(), options(ubatch), [&](int64_t pos, std::span<const float> l) {
    EXPECT_EQ(pos, static_cast<int64_t>(out.size()));
    out.emplace_back(l.begin(), l.end());
  });
  m.prefill(prompt);
  EXPECT_EQ(m.n_past(), static_cast<int64_t>(prompt.size()));
  for (int32_t t : more) m.decode(t);
  return out;
}

void compare(const Logits& got, const Logits& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t p = 0; p < want.size(); ++p) {
    float scale = 0, err = 0;
    for (size_t i = 0; i < want[p].size(); ++i) {
      ASSERT_TRUE(std::isfinite(got[p][i])) << what << ", position " << p;
      scale = std::max(scale, std::fabs(want[p][i]));
      err = std::max(err, std::fabs(got[p][i] - want[p][i]));
    }
    EXPECT_LE(err, kTolerance * scale) << what << ", position " << p;
    EXPECT_EQ(std::max_element(got[p].begin(), got[p].end()) - got[p].begin(),
              std::max_element(want[p].begin(), want[p].end()) - want[p].begin())
        << what << ", position " << p;
  }
}

TEST(TokenSteps, EqualOneTokenSteps) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "token seed " << seed);
  for (int64_t t : {1, 2, 7, 37, 64, 512}) {
    // Two whole chunks and a partial one (one chunk and a partial at T = 512).
    const size_t n = t == 512 ? 700 : static_cast<size_t>(2 * t + 3);
    const auto prompt = random_tokens(n, seed + static_cast<uint32_t>(t));
    const auto more = random_tokens(3, seed ^ 0x5eedu);
    const Logits want = run(1, prompt, more);
    compare(run(t, prompt, more), want, "micro-batch " + std::to_string(t));
  }
}

// Without a logits callback the T-token graph computes only the last row's logits (and its
// argmax); decoding after it reads the cache the T-token graph wrote.
TEST(TokenSteps, LastRowLogitsAndDecodeAfterPrefill) {
  const auto prompt = random_tokens(150, std::random_device{}());
  GraphModel one(tiny_file(), options(1)), batched(tiny_file(), options(64));
  one.prefill(prompt);
  batched.prefill(prompt);
  for (int step = 0; step < 4; ++step) {
    const Logits got{{batched.logits().begin(), batched.logits().end()}};
    const Logits want{{one.logits().begin(), one.logits().end()}};
    compare(got, want, "step " + std::to_string(step));
    const int32_t next = one.argmax();
    EXPECT_EQ(batched.argmax(), next);
    one.decode(next);
    batched.decode(next);
  }
}

TEST(TokenSteps, GraphShapes) {
  qwen2::ImportOptions io;
  io.max_ctx = kCtx;
  io.n_tokens = 16;
  ir::Graph g = qwen2::import_qwen2(tiny_file(), io);
  EXPECT_TRUE(ir::verify(g).empty());
  EXPECT_EQ(g.kv_len, 16);  // a first chunk's positions
  EXPECT_EQ(g.type(*g.find("tok")).shape, ir::Shape{{16}});
  EXPECT_EQ(g.type(*g.find("x1.0")).shape, (ir::Shape{{64, 16}}));
  EXPECT_EQ(g.type(*g.find("logits")).shape, ir::Shape{{300}});  // the last row alone
  io.all_logits = true;
  ir::Graph all = qwen2::import_qwen2(tiny_file(), io);
  EXPECT_EQ(all.type(*all.find("logits")).shape, (ir::Shape{{300, 16}}));
  EXPECT_FALSE(all.find("next"));  // argmax needs one row
}

TEST(TokenSteps, RejectsTooManyTokens) {
  GraphModel m(tiny_file(), options(8));
  std::vector<int32_t> prompt(kCtx + 1, 1);
  try {
    m.prefill(prompt);
    FAIL() << "a prompt longer than the context was accepted";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(std::to_string(kCtx + 1)), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(kCtx)), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace brickc::cpu
