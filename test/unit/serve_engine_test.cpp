// runtime/serve/engine: stop strings cut the text and are never sent, even when they arrive
// over several tokens; ill-formed UTF-8 is mended; finish reasons; the bounded queue.
#include "runtime/serve/engine.h"

#include <gtest/gtest.h>

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

struct Generated {
  sv::Outcome out;
  std::string streamed;
};

Generated generate(std::string_view script, sv::GenParams g) {
  ScriptedModel m(script);
  const tk::Tokenizer tok = byte_tokenizer();
  sv::Engine e(m, tok, {256}, 8);
  g.sampler.temp = 0;
  Generated r;
  const auto ticket = e.admit();
  const std::vector<int32_t> prompt = {'x'};
  r.out = e.generate(*ticket, prompt, g, [&](std::string_view t) {
    r.streamed += t;
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
  sv::Engine e(m, tok, {256}, 2);
  auto a = e.admit(), b = e.admit();
  EXPECT_TRUE(a && b);
  EXPECT_FALSE(e.admit());
  EXPECT_EQ(e.metrics().waiting, 2);
  b.reset();  // a request that leaves gives its place back
  EXPECT_TRUE(e.admit());
  e.stop();
  EXPECT_FALSE(e.admit());
}

}  // namespace
