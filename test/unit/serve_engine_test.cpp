// runtime/serve/engine: stop strings cut the text and are never sent, even when they arrive
// over several tokens; ill-formed UTF-8 is mended; finish reasons; the bounded queue; prompt
// reuse evaluates only what the cache does not hold.
#include "runtime/serve/engine.h"

#include <gtest/gtest.h>

#include <cmath>

#include "frontend/tokenizer/byte_map.h"

namespace sv = brickc::serve;
namespace tk = brickc::tokenizer;

namespace {

// Byte tokens (id = byte) and one end-of-generation token, id 256.
tk::Tokenizer byte_tokenizer() {
  tk::Vocab v;
  v.source = "test";
  for (int b = 0; b < 256; ++b) {
    v.tokens.emplace_back(tk::byte_to_utf8(static_cast<uint8_t>(b)));
    v.types.push_back(tk::TokenType::Normal);
  }
  v.tokens.push_back("<|endoftext|>");
  v.types.push_back(tk::TokenType::Control);
  return tk::Tokenizer(v);
}

// Greedy picks `script` in order: the k-th evaluation puts its maximum at script[k].
class ScriptedModel : public brickc::runtime::Decoder {
 public:
  explicit ScriptedModel(std::string_view script) {
    for (unsigned char c : script) script_.push_back(c);
    script_.push_back(256);
  }
  int64_t n_ctx() const override { return 64; }
  int64_t n_past() const override { return n_past_; }
  void prefill(std::span<const int32_t> t) override { n_past_ += t.size(), next(); }
  void decode(int32_t) override { ++n_past_, next(); }
  void reset() override { n_past_ = 0, step_ = 0; }
  void rewind(int64_t n) override {
    brickc::runtime::check_rewind(n, n_past_);
    n_past_ = n;
  }
  std::span<const float> logits() override { return logits_; }

 private:
  void next() {
    logits_.assign(257, 0.0f);
    logits_[script_.at(std::min(step_++, script_.size() - 1))] = 1.0f;
  }
  std::vector<int32_t> script_;
  int64_t n_past_ = 0;
  size_t step_ = 0;
  std::vector<float> logits_;
};

// Records where each prefill evaluated which tokens.
class RecordingModel : public ScriptedModel {
 public:
  using ScriptedModel::ScriptedModel;
  void prefill(std::span<const int32_t> t) override {
    evaluated.emplace_back(n_past(), std::string(t.begin(), t.end()));
    ScriptedModel::prefill(t);
  }
  std::vector<std::pair<int64_t, std::string>> evaluated;  // (position, tokens as bytes)
};

struct Generated {
  sv::Outcome out;
  std::string streamed;
  std::vector<sv::TokenLogprobs> streamed_logprobs;
};

Generated generate(std::string_view script, sv::GenParams g) {
  ScriptedModel m(script);
  const tk::Tokenizer tok = byte_tokenizer();
  sv::SerialEngine e(m, tok, {256}, 8);
  g.sampler.temp = 0;
  Generated r;
  const auto ticket = e.admit();
  const std::vector<int32_t> prompt = {'x'};
  r.out = e.generate(*ticket, prompt, g,
                     [&](std::string_view t, std::span<const sv::TokenLogprobs> l) {
                       r.streamed += t;
                       r.streamed_logprobs.insert(r.streamed_logprobs.end(), l.begin(), l.end());
                       return true;
                     });
  return r;
}

TEST(ServeEngine, StopStringsCutTheTextAndAreNeverSent) {
  sv::GenParams g;
  g.stop = {"END", "zz"};
  const Generated r = generate("abcENDdef", g);
  EXPECT_EQ(r.out.text, "abc");
  EXPECT_EQ(r.streamed, "abc");
  EXPECT_EQ(r.out.finish_reason, "stop");
  EXPECT_EQ(r.out.completion_tokens, 6);  // generation stops at the token completing "END"
  // A held-back prefix of a stop string that does not complete is sent after all.
  const Generated partial = generate("abEN", g);
  EXPECT_EQ(partial.streamed, "abEN");
  EXPECT_EQ(partial.out.finish_reason, "stop");  // the end-of-generation token
}

// ScriptedModel's logits are 1 for the scripted token and 0 for the other 256, so by hand
// the chosen token's probability is e / (e + 256), and each other's 1 / (e + 256).
TEST(ServeEngine, LogprobsComeWithTheTextTheyBelongTo) {
  sv::GenParams g;
  g.stop = {"END"};
  g.logprobs = 2;
  const Generated r = generate("abcENDdef", g);
  ASSERT_EQ(r.out.text, "abc");
  // "E", "N", "D" were generated but their text was cut with the stop string.
  ASSERT_EQ(r.out.logprobs.size(), 3u);
  const double chosen = std::log(std::exp(1.0) / (std::exp(1.0) + 256)),
               other = std::log(1.0 / (std::exp(1.0) + 256));
  for (size_t i = 0; i < 3; ++i) {
    const sv::TokenLogprobs& e = r.out.logprobs[i];
    EXPECT_EQ(e.chosen.id, "abc"[i]);
    EXPECT_EQ(e.chosen.piece, std::string(1, "abc"[i]));
    EXPECT_NEAR(e.chosen.logprob, chosen, 1e-5);
    ASSERT_EQ(e.top.size(), 2u);
    EXPECT_EQ(e.top[0].id, e.chosen.id);
    EXPECT_NEAR(e.top[0].logprob, chosen, 1e-5);
    EXPECT_EQ(e.top[1].id, 0);  // the lowest id among the tied rest
    EXPECT_NEAR(e.top[1].logprob, other, 1e-5);
  }
  // A stream hands out the same entries, each with or after its text.
  ASSERT_EQ(r.streamed_logprobs.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(r.streamed_logprobs[i].chosen.id, "abc"[i]);
  // Without logprobs asked for, none are computed.
  EXPECT_TRUE(generate("abc", sv::GenParams{}).out.logprobs.empty());
}

TEST(ServeEngine, LengthAndMendedUtf8) {
  sv::GenParams g;
  g.max_tokens = 3;
  const Generated r = generate("abcdef", g);
  EXPECT_EQ(r.out.text, "abc");
  EXPECT_EQ(r.out.finish_reason, "length");
  // A lone continuation byte and a cut 3-byte character: one U+FFFD per maximal subpart.
  g.max_tokens.reset();
  const Generated bad = generate("a\x80" "b\xE4\xB8" "c", g);
  EXPECT_EQ(bad.out.text, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c");
  EXPECT_EQ(bad.streamed, bad.out.text);
}

TEST(ServeEngine, AdmitsAtMostMaxWaiting) {
  ScriptedModel m("a");
  const tk::Tokenizer tok = byte_tokenizer();
  sv::SerialEngine e(m, tok, {256}, 2);
  auto a = e.admit(), b = e.admit();
  EXPECT_TRUE(a && b);
  EXPECT_FALSE(e.admit());
  EXPECT_EQ(e.metrics().waiting, 2);
  b.reset();  // a request that leaves gives its place back
  EXPECT_TRUE(e.admit());
  e.stop();
  EXPECT_FALSE(e.admit());
}

TEST(ServeEngine, PromptReuseEvaluatesOnlyWhatTheCacheLacks) {
  RecordingModel m("abcdefghijklmnop");
  const tk::Tokenizer tok = byte_tokenizer();
  sv::SerialEngine e(m, tok, {256}, 8);
  sv::GenParams g;
  g.sampler.temp = 0;
  g.max_tokens = 3;
  auto run = [&](std::string_view prompt) {
    const std::vector<int32_t> ids(prompt.begin(), prompt.end());
    return e.generate(*e.admit(), ids, g,
                      [](std::string_view, std::span<const sv::TokenLogprobs>) { return true; });
  };
  // "hello", then 3 tokens "abc": the cache holds "helloab" (the last one is never fed).
  sv::Outcome o = run("hello");
  EXPECT_EQ(o.cached_tokens, 0);
  EXPECT_EQ(m.evaluated.back(), std::make_pair(int64_t{0}, std::string("hello")));
  EXPECT_EQ(m.n_past(), 7);
  // The chat goes on: the history is reused, only the new turn evaluated.
  o = run("helloabXY");
  EXPECT_EQ(o.prompt_tokens, 9);
  EXPECT_EQ(o.cached_tokens, 7);
  EXPECT_EQ(m.evaluated.back(), std::make_pair(int64_t{7}, std::string("XY")));
  // An edit in the middle keeps what comes before it.
  o = run("help");
  EXPECT_EQ(o.cached_tokens, 3);
  EXPECT_EQ(m.evaluated.back(), std::make_pair(int64_t{3}, std::string("p")));
  // The same prompt again: its last token is evaluated anew, for the first sample's logits.
  o = run("help");
  EXPECT_EQ(o.cached_tokens, 3);
  EXPECT_EQ(m.evaluated.back(), std::make_pair(int64_t{3}, std::string("p")));
  EXPECT_EQ(e.metrics().cached_tokens, 13);
}

}  // namespace
