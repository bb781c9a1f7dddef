// runtime/session: the generation loop on a scripted fake model whose logits pick a chosen
// token at each step: where it stops (end-of-generation, -n, full context, interrupt),
// what it streams and feeds back, the counts, and that prompt tokens reach the penalties.
#include "runtime/session.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "frontend/tokenizer/tokenizer.h"
#include "ir/error.h"

namespace rt = brickc::runtime;
namespace sm = brickc::sampling;

namespace {

constexpr int32_t kVocab = 8;

// The k-th evaluation (prefill or decode) returns logits whose maximum is script[k]: 1
// there, 0.9 elsewhere (close, so that a penalty can change the choice).
class ScriptedModel : public rt::Decoder {
 public:
  ScriptedModel(std::vector<int32_t> script, int64_t n_ctx)
      : script_(std::move(script)), n_ctx_(n_ctx) {}
  int64_t n_ctx() const override { return n_ctx_; }
  int64_t n_past() const override { return static_cast<int64_t>(fed.size()); }
  void prefill(std::span<const int32_t> tokens) override {
    prefills.emplace_back(tokens.begin(), tokens.end());
    fed.insert(fed.end(), tokens.begin(), tokens.end());
    next();
  }
  void decode(int32_t token) override {
    decoded.push_back(token);
    fed.push_back(token);
    next();
  }
  void reset() override { fed.clear(); }
  void rewind(int64_t n) override {
    rt::check_rewind(n, n_past());
    fed.resize(static_cast<size_t>(n));
  }
  std::span<const float> logits() override { return logits_; }

  std::vector<int32_t> fed, decoded;
  std::vector<std::vector<int32_t>> prefills;

 private:
  void next() {
    logits_.assign(kVocab, 0.9f);
    logits_.at(script_.at(step_++)) = 1.0f;
  }
  std::vector<int32_t> script_;
  int64_t n_ctx_;
  size_t step_ = 0;
  std::vector<float> logits_;
};

sm::SamplerParams greedy() {
  sm::SamplerParams p;
  p.temp = 0.0f;
  return p;
}

TEST(Session, StopsAtEndOfGenerationAndStreamsInOrder) {
  ScriptedModel m({3, 4, 5, 7, 1}, 64);
  sm::Sampler s(greedy());
  rt::Session session(m, s);
  rt::GenerateOptions o;
  o.eog = {6, 7};
  std::vector<int32_t> streamed;
  const std::vector<int32_t> prompt = {1, 2};
  const auto st = session.generate(prompt, o, [&](int32_t t) { streamed.push_back(t); });
  EXPECT_EQ(streamed, (std::vector<int32_t>{3, 4, 5}));
  EXPECT_EQ(st.stop, rt::StopReason::kEndOfGeneration);
  EXPECT_EQ(st.n_prompt, 2);
  EXPECT_EQ(st.n_generated, 3);
  EXPECT_EQ(st.n_decoded, 3);
  EXPECT_EQ(m.decoded, (std::vector<int32_t>{3, 4, 5}));  // the EOG token is not fed
  EXPECT_EQ(session.n_tokens(), 5);
}

TEST(Session, LimitLeavesTheLastTokenForTheNextPrefill) {
  ScriptedModel m({3, 4, 5, 6}, 64);
  sm::Sampler s(greedy());
  rt::Session session(m, s);
  rt::GenerateOptions o;
  o.n_predict = 2;
  std::vector<int32_t> streamed;
  const std::vector<int32_t> p1 = {1}, p2 = {2, 2};
  auto st = session.generate(p1, o, [&](int32_t t) { streamed.push_back(t); });
  EXPECT_EQ(st.stop, rt::StopReason::kLimit);
  EXPECT_EQ(st.n_generated, 2);
  EXPECT_EQ(st.n_decoded, 1);
  EXPECT_EQ(session.n_tokens(), 3);  // 1 prompt + 3 fed + 4 pending
  st = session.generate(p2, o, [&](int32_t t) { streamed.push_back(t); });
  ASSERT_EQ(m.prefills.size(), 2u);
  EXPECT_EQ(m.prefills[1], (std::vector<int32_t>{4, 2, 2}));
  EXPECT_EQ(st.n_prompt, 3);
  EXPECT_EQ(streamed, (std::vector<int32_t>{3, 4, 5, 6}));
  EXPECT_EQ(m.fed, (std::vector<int32_t>{1, 3, 4, 2, 2, 5}));
}

TEST(Session, NoLimitStopsWhenTheContextIsFull) {
  ScriptedModel m({1, 2, 3, 4, 5, 6}, 4);
  sm::Sampler s(greedy());
  rt::Session session(m, s);
  std::vector<int32_t> streamed;
  const std::vector<int32_t> prompt = {0, 0};
  const auto st = session.generate(prompt, {}, [&](int32_t t) { streamed.push_back(t); });
  EXPECT_EQ(st.stop, rt::StopReason::kContextFull);
  // Positions 2 and 3 take the first two generated tokens; the third is sampled from the
  // logits of position 3 and cannot be fed.
  EXPECT_EQ(streamed, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(m.n_past(), 4);
  EXPECT_THROW(session.generate(prompt, {}, {}), brickc::Error);
}

TEST(Session, InterruptStopsAfterTheCurrentToken) {
  ScriptedModel m({1, 2, 3, 4, 5}, 64);
  sm::Sampler s(greedy());
  rt::Session session(m, s);
  rt::GenerateOptions o;
  int polls = 0;
  o.interrupted = [&] { return ++polls == 2; };
  std::vector<int32_t> streamed;
  const std::vector<int32_t> prompt = {0};
  const auto st = session.generate(prompt, o, [&](int32_t t) { streamed.push_back(t); });
  EXPECT_EQ(st.stop, rt::StopReason::kInterrupted);
  EXPECT_EQ(streamed, (std::vector<int32_t>{1, 2}));
}

TEST(Session, RejectsEmptyAndOversizedPrompts) {
  ScriptedModel m({1}, 3);
  sm::Sampler s(greedy());
  rt::Session session(m, s);
  EXPECT_THROW(session.generate({}, {}, {}), brickc::Error);
  const std::vector<int32_t> prompt = {0, 0, 0, 0};
  EXPECT_THROW(session.generate(prompt, {}, {}), brickc::Error);
  EXPECT_EQ(m.n_past(), 0);
}

TEST(Session, PromptTokensReachTheRepeatPenalty) {
  // Logits favour 3 by a little; a prompt holding 3 and a strong repeat penalty turn the
  // greedy choice to the next best token.
  ScriptedModel m({3}, 64);
  sm::SamplerParams p = greedy();
  p.penalty_repeat = 100.0f;
  sm::Sampler s(p);
  rt::Session session(m, s);
  rt::GenerateOptions o;
  o.n_predict = 1;
  std::vector<int32_t> streamed;
  const std::vector<int32_t> prompt = {3};
  session.generate(prompt, o, [&](int32_t t) { streamed.push_back(t); });
  ASSERT_EQ(streamed.size(), 1u);
  EXPECT_NE(streamed[0], 3);
}

TEST(Session, ResumeKeepsTheCachedPrefixAndItsPenalties) {
  // A first conversation fills 4 positions; resuming from its first 2 keeps them, feeds only
  // the rest of the new prompt, and the reused token 3 still reaches the repeat penalty.
  ScriptedModel m({7, 3}, 64);
  sm::SamplerParams p = greedy();
  p.penalty_repeat = 100.0f;
  sm::Sampler s(p);
  rt::Session session(m, s);
  rt::GenerateOptions o;
  o.n_predict = 1;
  const std::vector<int32_t> first = {5, 3, 6, 6};
  session.generate(first, o, {});
  ASSERT_EQ(m.n_past(), 4);
  session.resume(std::span(first).first(2));
  EXPECT_EQ(m.n_past(), 2);
  std::vector<int32_t> streamed;
  const std::vector<int32_t> rest = {8};
  session.generate(rest, o, [&](int32_t t) { streamed.push_back(t); });
  EXPECT_EQ(m.prefills.back(), rest);
  EXPECT_EQ(m.fed, (std::vector<int32_t>{5, 3, 8}));
  ASSERT_EQ(streamed.size(), 1u);
  EXPECT_NE(streamed[0], 3);  // the script favours 3; the penalty saw it in the kept prefix
  EXPECT_THROW(session.resume(std::span(first)), brickc::Error);  // 4 > the 3 positions held
}

TEST(Session, StreamedPiecesNeverSplitACharacter) {
  // Byte-level tokens: "a", the two bytes of "é" (0xC3 0xA9, mapped to U+00C3 and U+00A9),
  // "b", and an end-of-generation control token.
  brickc::tokenizer::Vocab v;
  v.source = "test";
  v.tokens = {"a", "\xC3\x83", "\xC2\xA9", "b", "<|endoftext|>", "c", "d", "e"};
  using T = brickc::tokenizer::TokenType;
  v.types = {T::Normal,  T::Normal, T::Normal, T::Normal,
             T::Control, T::Normal, T::Normal, T::Normal};
  const brickc::tokenizer::Tokenizer tok(v);
  ScriptedModel m({0, 1, 2, 3, 4}, 64);
  sm::Sampler s(greedy());
  rt::Session session(m, s);
  rt::GenerateOptions o;
  o.eog = {4};
  brickc::tokenizer::StreamDecoder dec(tok);
  std::vector<std::string> pieces;
  const std::vector<int32_t> prompt = {5};
  const auto st = session.generate(prompt, o, [&](int32_t t) { pieces.push_back(dec.push(t)); });
  EXPECT_EQ(pieces, (std::vector<std::string>{"a", "", "\xC3\xA9", "b"}));
  EXPECT_EQ(st.n_generated, 4);
}

TEST(Session, ResetEmptiesTheCacheAndTheUnfedToken) {
  ScriptedModel m({3, 4, 5}, 64);
  sm::Sampler s(greedy());
  rt::Session session(m, s);
  rt::GenerateOptions o;
  o.n_predict = 1;
  const std::vector<int32_t> prompt = {1, 2};
  session.generate(prompt, o, {});
  EXPECT_EQ(session.n_tokens(), 3);
  session.reset();
  EXPECT_EQ(session.n_tokens(), 0);
  session.generate(prompt, o, {});
  EXPECT_EQ(m.prefills.back(), prompt);
}

}  // namespace

namespace brickc::runtime {
namespace {

std::string check_error(std::vector<int32_t> tokens, int64_t n_past, int64_t n_ctx, int64_t n_vocab) {
  try {
    check_tokens(tokens, n_past, n_ctx, n_vocab);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// What every backend's prefill checks first: the CPU reference, the graph engine, the GPU.
TEST(CheckTokens, EmptyOutOfRangeAndOverflowingPromptsAreErrors) {
  EXPECT_EQ(check_error({1, 2, 3}, 5, 8, 10), "");
  EXPECT_EQ(check_error({}, 0, 8, 10), "no tokens to evaluate");
  EXPECT_EQ(check_error({1, 10}, 0, 8, 10),
            "token id 10 (at index 1) is out of range: the model's vocabulary has 10 tokens");
  EXPECT_EQ(check_error({-1}, 0, 8, 10),
            "token id -1 (at index 0) is out of range: the model's vocabulary has 10 tokens");
  EXPECT_EQ(check_error({1, 2, 3, 4}, 5, 8, 10),
            "4 tokens at position 5 do not fit: the context length is 8");
}

}  // namespace
}  // namespace brickc::runtime
