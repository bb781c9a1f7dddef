#include "runtime/serve/openai.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>
#include <random>

namespace brickc::serve {

using json = nlohmann::json;

namespace {

json usage_json(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

json head(const ResponseId& r, std::string_view object) {
  return {{"id", r.id}, {"object", object}, {"created", r.created}, {"model", r.model}};
}

json reason_or_null(std::optional<std::string_view> finish_reason) {
  return finish_reason ? json(*finish_reason) : json(nullptr);
}

}  // namespace

json error_object(std::string_view message, std::string_view type, std::string_view param) {
  return {{"error",
           {{"message", message},
            {"type", type},
            {"param", param.empty() ? json(nullptr) : json(param)},
            {"code", nullptr}}}};
}

json chat_completion(const ResponseId& r, std::string_view content,
                     std::string_view finish_reason, const Usage& u) {
  json j = head(r, "chat.completion");
  j["choices"] = json::array({{{"index", 0},
                               {"message", {{"role", "assistant"}, {"content", content}}},
                               {"logprobs", nullptr},
                               {"finish_reason", finish_reason}}});
  j["usage"] = usage_json(u);
  return j;
}

json chat_chunk(const ResponseId& r, std::optional<std::string_view> role,
                std::string_view content, std::optional<std::string_view> finish_reason,
                const std::optional<Usage>& usage) {
  json j = head(r, "chat.completion.chunk");
  if (usage) {
    j["choices"] = json::array();
    j["usage"] = usage_json(*usage);
    return j;
  }
  json delta = json::object();
  if (role) delta["role"] = *role;
  if (!content.empty() || !finish_reason) delta["content"] = content;
  j["choices"] = json::array({{{"index", 0},
                               {"delta", delta},
                               {"logprobs", nullptr},
                               {"finish_reason", reason_or_null(finish_reason)}}});
  return j;
}

json text_completion(const ResponseId& r, std::string_view text, std::string_view finish_reason,
                     const Usage& u) {
  json j = head(r, "text_completion");
  j["choices"] = json::array(
      {{{"index", 0}, {"text", text}, {"logprobs", nullptr}, {"finish_reason", finish_reason}}});
  j["usage"] = usage_json(u);
  return j;
}

json text_chunk(const ResponseId& r, std::string_view text,
                std::optional<std::string_view> finish_reason, const std::optional<Usage>& usage) {
  json j = head(r, "text_completion");
  if (usage) {
    j["choices"] = json::array();
    j["usage"] = usage_json(*usage);
    return j;
  }
  j["choices"] = json::array({{{"index", 0},
                               {"text", text},
                               {"logprobs", nullptr},
                               {"finish_reason", reason_or_null(finish_reason)}}});
  return j;
}

json infill_result(std::string_view content, const Usage& u, bool stop) {
  return {{"content", content},
          {"tokens_predicted", u.completion_tokens},
          {"tokens_evaluated", u.prompt_tokens},
          {"tokens_cached", u.cached_tokens},
          {"stop", stop}};
}

json model_list(std::string_view model_id, int64_t created) {
  return {{"object", "list"},
          {"data", json::array({{{"id", model_id},
                                 {"object", "model"},
                                 {"created", created},
                                 {"owned_by", "brickc"}}})}};
}

std::string sse_event(const json& j) {
  // Invalid UTF-8 (a token cut inside a character never reaches here: StreamDecoder holds
  // it) would make dump() throw; replace keeps a stream alive regardless.
  return "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

std::string new_id(std::string_view prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{}{:012x}{:012x}", prefix, rng() & 0xFFFFFFFFFFFFull,
                     rng() & 0xFFFFFFFFFFFFull);
}

}  // namespace brickc::serve
