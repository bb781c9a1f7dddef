// runtime/serve/requests: bodies parsed with their defaults, and every client mistake an
// error naming the field.
#include "runtime/serve/requests.h"

#include <gtest/gtest.h>

namespace sv = brickc::serve;

namespace {

// The param of the RequestError `parse` throws for `body`; "<none>" if it does not throw.
template <typename Parse>
std::string param_of(Parse parse, std::string_view body) {
  try {
    parse(body);
  } catch (const sv::RequestError& e) {
    return e.param();
  }
  return "<none>";
}

TEST(ServeRequests, ChatFieldsAndDefaults) {
  const auto r = sv::parse_chat_request(
      R"({"model": "m", "messages": [{"role": "system", "content": "s"},
          {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}],
          "max_tokens": 8, "temperature": 0, "top_k": 5, "top_p": 0.5, "min_p": 0.1, "seed": 7,
          "stop": "x", "stream": true, "stream_options": {"include_usage": true}, "user": null})");
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[1].content, "ab");
  EXPECT_EQ(r.gen.max_tokens, 8);
  EXPECT_EQ(r.gen.sampler.temp, 0.0f);
  EXPECT_EQ(r.gen.sampler.top_k, 5);
  EXPECT_EQ(r.gen.sampler.seed, 7u);
  EXPECT_EQ(r.gen.stop, std::vector<std::string>{"x"});
  EXPECT_TRUE(r.gen.stream && r.gen.include_usage);
  const auto d = sv::parse_chat_request(R"({"messages": [{"role": "user", "content": "hi"}]})");
  EXPECT_FALSE(d.gen.max_tokens);
  EXPECT_EQ(d.gen.sampler.temp, brickc::sampling::SamplerParams{}.temp);  // llama.cpp's
}

TEST(ServeRequests, MistakesNameTheField) {
  const auto chat = [](std::string_view b) { sv::parse_chat_request(b); };
  const std::string msgs = R"("messages": [{"role": "user", "content": "hi"}])";
  EXPECT_EQ(param_of(chat, "{\"messages\": ["), "");  // malformed JSON
  EXPECT_EQ(param_of(chat, "[1]"), "");
  EXPECT_EQ(param_of(chat, "{}"), "messages");
  EXPECT_EQ(param_of(chat, "{" + msgs + R"(, "max_tokenz": 3})"), "max_tokenz");
  EXPECT_EQ(param_of(chat, "{" + msgs + R"(, "max_tokens": "x"})"), "max_tokens");
  EXPECT_EQ(param_of(chat, "{" + msgs + R"(, "max_tokens": 0})"), "max_tokens");
  EXPECT_EQ(param_of(chat, "{" + msgs + R"(, "top_p": 2})"), "top_p");
  EXPECT_EQ(param_of(chat, "{" + msgs + R"(, "stop": ["a", 3]})"), "stop[1]");
  EXPECT_EQ(param_of(chat, "{" + msgs + R"(, "n": 2})"), "n");
  EXPECT_EQ(param_of(chat, "{" + msgs + R"(, "stream_options": {"x": 1}})"), "stream_options.x");
  EXPECT_EQ(param_of(chat, R"({"messages": [{"role": "tool", "content": "x"}]})"),
            "messages[0].role");
  EXPECT_EQ(param_of(chat, R"({"messages": [{"role": "user"}]})"), "messages[0].content");
  EXPECT_EQ(param_of(chat, R"({"messages": [{"role": "user", "content": "x", "z": 1}]})"),
            "messages[0].z");
}

// Each endpoint's spelling of log-probabilities, and their bounds (OpenAI's: top_logprobs
// <= 20 and only with logprobs; the legacy completions' logprobs <= 5).
TEST(ServeRequests, LogprobsInEachEndpointsForm) {
  const std::string msgs = R"({"messages": [{"role": "user", "content": "hi"})";
  EXPECT_FALSE(sv::parse_chat_request(msgs + "]}").gen.logprobs);
  EXPECT_EQ(sv::parse_chat_request(msgs + R"(], "logprobs": true})").gen.logprobs, 0);
  EXPECT_EQ(sv::parse_chat_request(msgs + R"(], "logprobs": true, "top_logprobs": 3})").gen.logprobs, 3);
  EXPECT_FALSE(sv::parse_chat_request(msgs + R"(], "logprobs": false})").gen.logprobs);
  const auto chat = [](std::string_view b) { sv::parse_chat_request(b); };
  EXPECT_EQ(param_of(chat, msgs + R"(], "top_logprobs": 3})"), "top_logprobs");
  EXPECT_EQ(param_of(chat, msgs + R"(], "logprobs": true, "top_logprobs": 21})"), "top_logprobs");
  EXPECT_EQ(param_of(chat, msgs + R"(], "logprobs": 1})"), "logprobs");
  EXPECT_EQ(sv::parse_completion_request(R"({"prompt": "x", "logprobs": 5})").gen.logprobs, 5);
  const auto completion = [](std::string_view b) { sv::parse_completion_request(b); };
  EXPECT_EQ(param_of(completion, R"({"prompt": "x", "logprobs": 6})"), "logprobs");
  EXPECT_EQ(param_of(completion, R"({"prompt": "x", "logprobs": true})"), "logprobs");
  EXPECT_EQ(sv::parse_infill_request(R"({"input_prefix": "a", "n_probs": 4})").gen.logprobs, 4);
}

TEST(ServeRequests, InfillTokenizeDetokenize) {
  const auto r = sv::parse_infill_request(
      R"({"input_prefix": "p", "input_suffix": "s", "prompt": "t", "n_predict": -1,
          "input_extra": [{"filename": "a.py", "text": "x"}, {"text": "y"}], "cache_prompt": true})");
  EXPECT_EQ(r.input_prefix, "p");
  EXPECT_FALSE(r.gen.max_tokens);
  ASSERT_EQ(r.input_extra.size(), 2u);
  EXPECT_EQ(r.input_extra[1].path, "tmp");  // llama-server's name for a chunk without one
  const auto infill = [](std::string_view b) { sv::parse_infill_request(b); };
  EXPECT_EQ(param_of(infill, R"({"input_extra": [{"name": "a"}]})"), "input_extra[0].name");
  EXPECT_EQ(param_of(infill, R"({"n_predict": 1.5})"), "n_predict");

  EXPECT_FALSE(sv::parse_tokenize_request(R"({"content": "x", "parse_special": false})")
                   .parse_special);
  const auto tok = [](std::string_view b) { sv::parse_tokenize_request(b); };
  EXPECT_EQ(param_of(tok, "{}"), "content");
  EXPECT_EQ(sv::parse_detokenize_request(R"({"tokens": [1, 2]})").tokens,
            (std::vector<int32_t>{1, 2}));
  const auto detok = [](std::string_view b) { sv::parse_detokenize_request(b); };
  EXPECT_EQ(param_of(detok, R"({"tokens": [1, -2]})"), "tokens[1]");
}

}  // namespace
