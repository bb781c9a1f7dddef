// The JSON objects `brickc serve` answers with, in the shapes of OpenAI's API (chat.completion,
// chat.completion.chunk, text_completion, model list, error) and llama-server's /infill, and
// the server-sent-event framing of streams. Not parsing requests, not HTTP.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <span>

#include "runtime/serve/logprobs.h"

namespace brickc::serve {

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;  // of the prompt, reused from the cache instead of evaluated
};

// What identifies one response: every chunk of a stream repeats it.
struct ResponseId {
  std::string id;       // "chatcmpl-..." or "cmpl-..."
  int64_t created = 0;  // Unix seconds
  std::string model;
};

// OpenAI's error object: {"error": {"message", "type", "param", "code": null}}; `param`
// empty gives null.
nlohmann::json error_object(std::string_view message, std::string_view type,
                            std::string_view param);

// A choice's "logprobs" in each shape: OpenAI chat's {"content": [{"token", "logprob",
// "bytes", "top_logprobs"}]}; the legacy completions' {"tokens", "token_logprobs",
// "top_logprobs", "text_offset"} (offsets in bytes from `offset`, where this part of the text
// starts); llama-server's "completion_probabilities" list of {"id", "token", "logprob",
// "bytes", "top_logprobs"}.
nlohmann::json chat_logprobs(std::span<const TokenLogprobs> l);
nlohmann::json completion_logprobs(std::span<const TokenLogprobs> l, int64_t offset);
nlohmann::json infill_probabilities(std::span<const TokenLogprobs> l);

// `logprobs`: the choice's logprobs object, null when not asked for.
nlohmann::json chat_completion(const ResponseId& r, std::string_view content,
                               std::string_view finish_reason, const Usage& u,
                               const nlohmann::json& logprobs = nullptr);
// A chunk of a chat stream: the first carries role "assistant", the last finish_reason;
// with usage (stream_options.include_usage) the choices list is empty.
nlohmann::json chat_chunk(const ResponseId& r, std::optional<std::string_view> role,
                          std::string_view content,
                          std::optional<std::string_view> finish_reason,
                          const std::optional<Usage>& usage = std::nullopt,
                          const nlohmann::json& logprobs = nullptr);

nlohmann::json text_completion(const ResponseId& r, std::string_view text,
                               std::string_view finish_reason, const Usage& u,
                               const nlohmann::json& logprobs = nullptr);
nlohmann::json text_chunk(const ResponseId& r, std::string_view text,
                          std::optional<std::string_view> finish_reason,
                          const std::optional<Usage>& usage = std::nullopt,
                          const nlohmann::json& logprobs = nullptr);

// llama-server's /infill answer: {"content", "tokens_predicted", "tokens_evaluated",
// "tokens_cached", "stop"}, and "completion_probabilities" when `probabilities` is not null.
nlohmann::json infill_result(std::string_view content, const Usage& u, bool stop,
                             const nlohmann::json& probabilities = nullptr);

nlohmann::json model_list(std::string_view model_id, int64_t created);

// "data: {json}\n\n": one server-sent event.
std::string sse_event(const nlohmann::json& j);
// The line that ends an OpenAI stream.
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

// A fresh id with `prefix`: 24 random hex digits, as OpenAI's ids look.
std::string new_id(std::string_view prefix);

}  // namespace brickc::serve
