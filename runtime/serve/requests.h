// The JSON bodies `brickc serve` accepts, parsed and checked: every field's type, unknown
// fields refused, so that a client's typo is a 400 naming the field rather than a silently
// ignored setting. Not HTTP, not generation.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/chat/chatml.h"
#include "frontend/chat/fim.h"
#include "runtime/sampling/sampler.h"

namespace brickc::serve {

// A request the client got wrong: HTTP 400 with OpenAI's error object; `param` names the
// field ("max_tokens", "messages[1].role"), empty when the body as a whole is at fault.
class RequestError : public std::runtime_error {
 public:
  RequestError(std::string param, const std::string& msg)
      : std::runtime_error(msg), param_(std::move(param)) {}
  const std::string& param() const { return param_; }

 private:
  std::string param_;
};

// What every generating endpoint shares: limits, sampling, stop strings, streaming.
struct GenParams {
  std::optional<int64_t> max_tokens;  // none: until end of generation or a full context
  std::string max_tokens_field = "max_tokens";  // as the client spelled it (infill: n_predict)
  sampling::SamplerParams sampler;    // llama.cpp's defaults where the request says nothing
  std::vector<std::string> stop;      // generation ends before any of these texts
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage: a last chunk with usage
  // Report each generated token's log-probability and those of its `logprobs` most likely
  // alternatives (chat: logprobs + top_logprobs; completions: logprobs; any: n_probs).
  std::optional<int> logprobs;
};

struct ChatRequest {
  std::vector<chat::Message> messages;
  GenParams gen;
};

struct CompletionRequest {
  std::string prompt;
  GenParams gen;
};

// llama-server's /infill: input_extra files go in front as a repo-level FIM prompt, and
// `prompt` is text that follows the prefix (what has been typed at the cursor).
struct InfillRequest {
  std::string input_prefix;
  std::string input_suffix;
  std::vector<chat::RepoFile> input_extra;
  std::string prompt;
  GenParams gen;
};

struct TokenizeRequest {
  std::string content;
  bool parse_special = true;
};

struct DetokenizeRequest {
  std::vector<int32_t> tokens;
};

// Each throws RequestError for malformed JSON, a field of the wrong type or value, an
// unknown field, or a missing required one.
ChatRequest parse_chat_request(std::string_view body);
CompletionRequest parse_completion_request(std::string_view body);
InfillRequest parse_infill_request(std::string_view body);
TokenizeRequest parse_tokenize_request(std::string_view body);
DetokenizeRequest parse_detokenize_request(std::string_view body);

}  // namespace brickc::serve
