// runtime/perplexity: llama.cpp's perplexity on a scripted Decoder whose logits at each
// position are fresh random numbers drawn from (seed, position, token): the NLL sums must
// be those of the scored positions (n_ctx/2 .. n_ctx-2 of each chunk) computed here
// directly in long double, chunks start from an empty cache (with BOS where the vocabulary
// adds one), and the errors name their numbers.
#include "runtime/perplexity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "ir/error.h"

namespace rt = brickc::runtime;

namespace {

using LogitsFn = std::function<void(int64_t, std::span<const float>)>;

// Logits of a position from its token alone, so that the test can recompute them.
std::vector<float> logits_at(uint32_t seed, int64_t pos, int32_t token, int32_t n_vocab) {
  std::seed_seq seq{seed, static_cast<uint32_t>(pos), static_cast<uint32_t>(token)};
  std::mt19937 gen(seq);
  std::normal_distribution<float> d(0.0f, 4.0f);
  std::vector<float> l(static_cast<size_t>(n_vocab));
  for (float& x : l) x = d(gen);
  return l;
}

class ScriptedDecoder : public rt::Decoder {
 public:
  ScriptedDecoder(int64_t n_ctx, int32_t n_vocab, uint32_t seed, LogitsFn each)
      : n_ctx_(n_ctx), n_vocab_(n_vocab), seed_(seed), each_(std::move(each)) {}
  int64_t n_ctx() const override { return n_ctx_; }
  int64_t n_past() const override { return n_past_; }
  void prefill(std::span<const int32_t> tokens) override {
    prefill_at.push_back(n_past_);
    prefills.emplace_back(tokens.begin(), tokens.end());
    for (int32_t t : tokens) {
      last_ = logits_at(seed_, n_past_, t, n_vocab_);
      if (report) each_(n_past_, last_);
      ++n_past_;
    }
  }
  void decode(int32_t token) override { prefill({&token, 1}); }
  void reset() override { n_past_ = 0; }
  void rewind(int64_t) override { ADD_FAILURE() << "perplexity never keeps part of a cache"; }
  std::span<const float> logits() override { return last_; }

  bool report = true;  // false: a backend that does not call `each`
  std::vector<std::vector<int32_t>> prefills;
  std::vector<int64_t> prefill_at;

 private:
  int64_t n_ctx_, n_past_ = 0;
  int32_t n_vocab_;
  uint32_t seed_;
  LogitsFn each_;
  std::vector<float> last_;
};

// The backend's per-position callback, wired to `p` as `brickc perplexity` wires it.
LogitsFn into(rt::Perplexity& p) {
  return [&p](int64_t pos, std::span<const float> l) { p.observe(pos, l); };
}

long double direct_nll(const std::vector<float>& l, int32_t token) {
  long double sum = 0;
  for (float x : l) sum += std::exp(static_cast<long double>(x));
  return std::log(sum) - l[static_cast<size_t>(token)];
}

std::vector<int32_t> random_tokens(std::mt19937& gen, size_t n, int32_t n_vocab) {
  std::uniform_int_distribution<int32_t> pick(0, n_vocab - 1);
  std::vector<int32_t> t(n);
  for (int32_t& x : t) x = pick(gen);
  return t;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const brickc::Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Perplexity, TokenNllIsMinusLogSoftmax) {
  std::mt19937 gen(std::random_device{}());
  const std::vector<float> l = logits_at(gen(), 0, 0, 5000);
  for (int32_t t : {0, 17, 4999}) {
    const double want = static_cast<double>(direct_nll(l, t));
    EXPECT_NEAR(rt::token_nll(l, t), want, 1e-12 * std::max(1.0, std::fabs(want)));
  }
  // Large logits: exp() of them would overflow without the max subtracted.
  const std::vector<float> big = {1000.0f, 999.0f, 990.0f};
  const double want = std::log(1 + std::exp(-1.0) + std::exp(-10.0)) + 1.0;
  EXPECT_NEAR(rt::token_nll(big, 1), want, 1e-12);
}

TEST(Perplexity, NllSumMatchesLlamaCppFormula) {
  rt::NllSum s;
  const std::vector<double> v = {1.5, 2.0, 0.25, 3.0, 1.0};
  for (double x : v) s.add(x);
  double mean = 0, mean2 = 0;
  for (double x : v) mean += x / v.size(), mean2 += x * x / v.size();
  EXPECT_EQ(s.count, 5);
  EXPECT_DOUBLE_EQ(s.ppl(), std::exp(mean));
  ASSERT_TRUE(s.ppl_error().has_value());
  const double want_error = std::exp(mean) * std::sqrt((mean2 - mean * mean) / 4);
  EXPECT_NEAR(*s.ppl_error(), want_error, 1e-12 * want_error);
  // No spread, or a single value: llama.cpp prints no uncertainty.
  rt::NllSum flat;
  flat.add(2.0);
  EXPECT_FALSE(flat.ppl_error().has_value());
  flat.add(2.0);
  EXPECT_FALSE(flat.ppl_error().has_value());
}

TEST(Perplexity, ScoresTheSecondHalfOfEachChunk) {
  std::mt19937 gen(std::random_device{}());
  const uint32_t seed = gen();
  constexpr int32_t kVocab = 300;
  constexpr int64_t kCtx = 9;  // first = 4: positions 4..7 scored, 4 per chunk
  // 3 chunks and a remainder that no chunk covers.
  const std::vector<int32_t> tokens = random_tokens(gen, 3 * kCtx + 5, kVocab);
  rt::PerplexityOptions o;
  o.n_ctx = kCtx;
  rt::Perplexity p(tokens, o);
  ASSERT_EQ(p.n_chunks(), 3);
  ScriptedDecoder d(kCtx, kVocab, seed, into(p));
  d.prefill(std::vector<int32_t>{1, 2});  // a cache left full by someone else
  long double want = 0;
  for (int64_t i = 0; i < p.n_chunks(); ++i) {
    EXPECT_GE(p.run_chunk(d, i), 0.0);
    for (int64_t j = kCtx / 2; j < kCtx - 1; ++j) {
      const int32_t tok = tokens[i * kCtx + j];
      want += direct_nll(logits_at(seed, j, tok, kVocab), tokens[i * kCtx + j + 1]);
    }
    EXPECT_EQ(p.sum().count, (i + 1) * 4);
  }
  // Relative bounds: the two sums round differently (double against long double), and the
  // perplexity of random logits is large (about 1e6).
  const double want_ppl = std::exp(static_cast<double>(want) / 12);
  EXPECT_NEAR(p.sum().nll, static_cast<double>(want), 1e-12 * std::fabs(static_cast<double>(want)));
  EXPECT_NEAR(p.sum().ppl(), want_ppl, 1e-12 * want_ppl);
  // One prefill per chunk, of the whole chunk, into an empty cache.
  ASSERT_EQ(d.prefills.size(), 4u);
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(d.prefill_at[i + 1], 0);
    EXPECT_EQ(d.prefills[i + 1],
              std::vector<int32_t>(tokens.begin() + i * kCtx, tokens.begin() + (i + 1) * kCtx));
  }
}

TEST(Perplexity, BosStartsEveryChunkAndChunksAreCapped) {
  std::mt19937 gen(std::random_device{}());
  constexpr int32_t kVocab = 64;
  const std::vector<int32_t> tokens = random_tokens(gen, 40, kVocab);
  rt::PerplexityOptions o;
  o.n_ctx = 8;
  o.max_chunks = 2;
  o.bos = 63;
  rt::Perplexity p(tokens, o);
  ASSERT_EQ(p.n_chunks(), 2);
  ScriptedDecoder d(8, kVocab, gen(), into(p));
  p.run_chunk(d, 0);
  p.run_chunk(d, 1);
  ASSERT_EQ(d.prefills.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(d.prefills[i][0], 63);
    EXPECT_TRUE(std::equal(d.prefills[i].begin() + 1, d.prefills[i].end(),
                           tokens.begin() + i * 8 + 1));
  }
  EXPECT_EQ(p.sum().count, 2 * 3);
  EXPECT_NE(error_of([&] { p.run_chunk(d, 2); }).find("chunk 2 of 2 does not exist"),
            std::string::npos);
  o.max_chunks = 9;
  EXPECT_EQ(rt::Perplexity(tokens, o).n_chunks(), 5);
}

TEST(Perplexity, Errors) {
  rt::PerplexityOptions o;
  o.source = "wiki.txt";
  o.n_ctx = 64;
  EXPECT_EQ(error_of([&] { rt::Perplexity(std::vector<int32_t>(127, 1), o); }),
            "perplexity: wiki.txt has 127 tokens; a context of 64 needs at least 2 * 64 = 128 (a "
            "longer text or a smaller context)");
  EXPECT_EQ(error_of([&] { rt::Perplexity(std::vector<int32_t>(128, 1), o); }), "(no error)");
  o.n_ctx = 2;
  EXPECT_NE(error_of([&] { rt::Perplexity(std::vector<int32_t>(8, 1), o); })
                .find("at least 3"),
            std::string::npos);
  o.n_ctx = 4;
  o.max_chunks = 0;
  EXPECT_THROW(rt::Perplexity(std::vector<int32_t>(8, 1), o), brickc::Error);

  // A backend that never reports its positions' logits, or holds too few positions.
  o.max_chunks = -1;
  rt::Perplexity p(std::vector<int32_t>(8, 1), o);
  ScriptedDecoder quiet(4, 16, 1, into(p));
  quiet.report = false;
  EXPECT_NE(error_of([&] { p.run_chunk(quiet, 0); })
                .find("chunk 0 scored 0 positions, expected 1 (positions 2 .. 2)"),
            std::string::npos);
  ScriptedDecoder small(3, 16, 1, into(p));
  EXPECT_NE(error_of([&] { p.run_chunk(small, 0); }).find("holds 3 positions, a chunk needs 4"),
            std::string::npos);
  // A token the logits do not cover.
  rt::Perplexity wide(std::vector<int32_t>(8, 20), o);
  ScriptedDecoder narrow(4, 16, 1, into(wide));
  EXPECT_NE(error_of([&] { wide.run_chunk(narrow, 0); }).find("token 20 at position 3"),
            std::string::npos);
}

}  // namespace
