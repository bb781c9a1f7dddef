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

json bytes_of(const std::string& piece) {
  json b = json::array();
  for (unsigned char c : piece) b.push_back(c);
  return b;
}

// {"token", "logprob", "bytes"}, and "id" for llama-server's shape.
json token_json(const TokenProb& t, bool with_id) {
  json j = {{"token", t.piece}, {"logprob", t.logprob}, {"bytes", bytes_of(t.piece)}};
  if (with_id) j["id"] = t.id;
  return j;
}

json entry_json(const TokenLogprobs& e, bool with_id) {
  json j = token_json(e.chosen, with_id);
  json top = json::array();
  for (const TokenProb& t : e.top) top.push_back(token_json(t, with_id));
  j["top_logprobs"] = std::move(top);
  return j;
}

}  // namespace

json chat_logprobs(std::span<const TokenLogprobs> l) {
  json content = json::array();
  for (const TokenLogprobs& e : l) content.push_back(entry_json(e, false));
  return {{"content", std::move(content)}, {"refusal", nullptr}};
}

json completion_logprobs(std::span<const TokenLogprobs> l, int64_t offset) {
  json tokens = json::array(), lps = json::array(), tops = json::array(), offsets = json::array();
  for (const TokenLogprobs& e : l) {
    tokens.push_back(e.chosen.piece);
    lps.push_back(e.chosen.logprob);
    json top = json::object();
    for (const TokenProb& t : e.top) top[t.piece] = t.logprob;
    tops.push_back(std::move(top));
    offsets.push_back(offset);
    offset += static_cast<int64_t>(e.chosen.piece.size());
  }
  return {{"tokens", std::move(tokens)},
          {"token_logprobs", std::move(lps)},
          {"top_logprobs", std::move(tops)},
          {"text_offset", std::move(offsets)}};
}

json infill_probabilities(std::span<const TokenLogprobs> l) {
  json out = json::array();
  for (const TokenLogprobs& e : l) out.push_back(entry_json(e, true));
  return out;
}

json error_object(std::string_view message, std::string_view type, std::string_view param) {
  return {{"error",
           {{"message", message},
            {"type", type},
            {"param", param.empty() ? json(nullptr) : json(param)},
            {"code", nullptr}}}};
}

json chat_completion(const ResponseId& r, std::string_view content,
                     std::string_view finish_reason, const Usage& u, const json& logprobs) {
  json j = head(r, "chat.completion");
  j["choices"] = json::array({{{"index", 0},
                               {"message", {{"role", "assistant"}, {"content", content}}},
                               {"logprobs", logprobs},
                               {"finish_reason", finish_reason}}});
  j["usage"] = usage_json(u);
  return j;
}

json chat_chunk(const ResponseId& r, std::optional<std::string_view> role,
                std::string_view content, std::optional<std::string_view> finish_reason,
                const std::optional<Usage>& usage, const json& logprobs) {
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
                               {"logprobs", logprobs},
                               {"finish_reason", reason_or_null(finish_reason)}}});
  return j;
}

json text_completion(const ResponseId& r, std::string_view text, std::string_view finish_reason,
                     const Usage& u, const json& logprobs) {
  json j = head(r, "text_completion");
  j["choices"] = json::array(
      {{{"index", 0}, {"text", text}, {"logprobs", logprobs}, {"finish_reason", finish_reason}}});
  j["usage"] = usage_json(u);
  return j;
}

json text_chunk(const ResponseId& r, std::string_view text,
                std::optional<std::string_view> finish_reason, const std::optional<Usage>& usage,
                const json& logprobs) {
  json j = head(r, "text_completion");
  if (usage) {
    j["choices"] = json::array();
    j["usage"] = usage_json(*usage);
    return j;
  }
  j["choices"] = json::array({{{"index", 0},
                               {"text", text},
                               {"logprobs", logprobs},
                               {"finish_reason", reason_or_null(finish_reason)}}});
  return j;
}

json infill_result(std::string_view content, const Usage& u, bool stop, const json& probabilities) {
  json j = {{"content", content},
            {"tokens_predicted", u.completion_tokens},
            {"tokens_evaluated", u.prompt_tokens},
            {"tokens_cached", u.cached_tokens},
            {"stop", stop}};
  if (!probabilities.is_null()) j["completion_probabilities"] = probabilities;
  return j;
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
