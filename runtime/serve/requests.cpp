#include "runtime/serve/requests.h"

#include <fmt/core.h>

#include <cmath>
#include <limits>
#include <set>
#include <nlohmann/json.hpp>

#include "ir/error.h"
#include "runtime/serve/logprobs.h"

namespace brickc::serve {
namespace {

using json = nlohmann::json;

json parse_object(std::string_view body) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    throw RequestError("", fmt::format("the request body is not valid JSON: {}", e.what()));
  }
  if (!j.is_object())
    throw RequestError("", fmt::format("the request body must be a JSON object, got {}",
                                       j.type_name()));
  return j;
}

// "string \"x\"": the type and (shortened) value, for messages about a wrong value.
std::string shown(const json& v) {
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return fmt::format("{} {}", v.type_name(), s);
}

[[noreturn]] void wrong(const std::string& field, std::string_view expected, const json& v) {
  throw RequestError(field, fmt::format("{}: expected {}, got {}", field, expected, shown(v)));
}

int64_t get_int(const json& v, const std::string& field, int64_t lo, int64_t hi) {
  const std::string expected = fmt::format("an integer in [{}, {}]", lo, hi);
  if (!v.is_number_integer()) wrong(field, expected, v);
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi))
    wrong(field, expected, v);
  const int64_t x = v.get<int64_t>();
  if (x < lo || x > hi) wrong(field, expected, v);
  return x;
}

float get_float(const json& v, const std::string& field, double lo, double hi) {
  const std::string expected = fmt::format("a number in [{}, {}]", lo, hi);
  if (!v.is_number()) wrong(field, expected, v);
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) wrong(field, expected, v);
  return static_cast<float>(x);
}

bool get_bool(const json& v, const std::string& field) {
  if (!v.is_boolean()) wrong(field, "a boolean", v);
  return v.get<bool>();
}

std::string get_string(const json& v, const std::string& field) {
  if (!v.is_string()) wrong(field, "a string", v);
  return v.get<std::string>();
}

[[noreturn]] void unknown(const std::string& field) {
  throw RequestError(field, fmt::format("unknown field '{}'", field));
}

[[noreturn]] void missing(const std::string& field) {
  throw RequestError(field, fmt::format("missing required field '{}'", field));
}

std::vector<std::string> get_stop(const json& v) {
  // OpenAI allows 4; llama-server any number. A bound keeps the per-token check cheap.
  constexpr size_t kMaxStops = 16;
  if (v.is_string()) {
    if (v.get<std::string>().empty()) wrong("stop", "a non-empty string", v);
    return {v.get<std::string>()};
  }
  if (!v.is_array() || v.size() > kMaxStops)
    wrong("stop", fmt::format("a string or an array of at most {} strings", kMaxStops), v);
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string s = get_string(v[i], fmt::format("stop[{}]", i));
    if (s.empty()) wrong(fmt::format("stop[{}]", i), "a non-empty string", v[i]);
    out.push_back(s);
  }
  return out;
}

// A field every generating endpoint takes; false when `key` is none of them.
bool gen_field(const std::string& key, const json& v, GenParams& g) {
  static const std::set<std::string> kKeys = {
      "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "min_p", "seed",
      "presence_penalty", "frequency_penalty", "repeat_penalty", "stop", "stream", "n_probs"};
  // OpenAI clients send null for "not given": the default stays.
  if (v.is_null()) return kKeys.count(key) > 0;
  auto& s = g.sampler;
  if (key == "max_tokens" || key == "max_completion_tokens") {
    g.max_tokens = get_int(v, key, 1, std::numeric_limits<int32_t>::max());
    g.max_tokens_field = key;
  } else if (key == "temperature") {
    s.temp = get_float(v, key, 0, 100);
  } else if (key == "top_p") {
    s.top_p = get_float(v, key, 0, 1);
  } else if (key == "top_k") {
    s.top_k = static_cast<int32_t>(get_int(v, key, 0, std::numeric_limits<int32_t>::max()));
  } else if (key == "min_p") {
    s.min_p = get_float(v, key, 0, 1);
  } else if (key == "seed") {
    // llama.cpp's seed is a uint32 and -1 means a random one.
    const int64_t seed = get_int(v, key, -1, 0xFFFFFFFFll);
    s.seed = seed < 0 ? sampling::kRandomSeed : static_cast<uint32_t>(seed);
  } else if (key == "presence_penalty") {
    s.penalty_present = get_float(v, key, -2, 2);
  } else if (key == "frequency_penalty") {
    s.penalty_freq = get_float(v, key, -2, 2);
  } else if (key == "repeat_penalty") {
    s.penalty_repeat = get_float(v, key, 0.01, 100);
  } else if (key == "stop") {
    g.stop = get_stop(v);
  } else if (key == "stream") {
    g.stream = get_bool(v, key);
  } else if (key == "n_probs") {
    // llama-server's name; 0 asks for the chosen tokens' log-probabilities alone.
    g.logprobs = static_cast<int>(get_int(v, key, 0, kMaxLogprobs));
  } else {
    return false;
  }
  return true;
}

// OpenAI's fields that change nothing here, or that must keep their default because what
// they ask for is not built (several choices). Not logprobs: its type is the endpoint's.
bool openai_field(const std::string& key, const json& v, GenParams& g) {
  static const std::set<std::string> kKeys = {"model", "user", "n", "stream_options"};
  if (v.is_null()) return kKeys.count(key) > 0;
  if (key == "model" || key == "user") {
    get_string(v, key);
  } else if (key == "n") {
    get_int(v, key, 1, 1);
  } else if (key == "stream_options") {
    if (!v.is_object()) wrong(key, "an object", v);
    for (const auto& [k, x] : v.items()) {
      if (k != "include_usage") unknown("stream_options." + k);
      g.include_usage = get_bool(x, "stream_options.include_usage");
    }
  } else {
    return false;
  }
  return true;
}

void check_sampler(const GenParams& g) {
  try {
    g.sampler.validate();
  } catch (const Error& e) {
    throw RequestError("", e.what());
  }
}

std::string message_content(const json& v, const std::string& field) {
  if (v.is_string()) return v.get<std::string>();
  // The array form: text parts only (no images in a text model).
  if (!v.is_array()) wrong(field, "a string or an array of text parts", v);
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string part = fmt::format("{}[{}]", field, i);
    if (!v[i].is_object()) wrong(part, "an object {\"type\": \"text\", \"text\": ...}", v[i]);
    for (const auto& [k, x] : v[i].items()) {
      if (k == "type") {
        if (get_string(x, part + ".type") != "text")
          wrong(part + ".type", "\"text\" (the only part type a text model reads)", x);
      } else if (k == "text") {
        out += get_string(x, part + ".text");
      } else {
        unknown(part + "." + k);
      }
    }
  }
  return out;
}

std::vector<chat::Message> get_messages(const json& v) {
  if (!v.is_array() || v.empty()) wrong("messages", "a non-empty array of messages", v);
  std::vector<chat::Message> out;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string field = fmt::format("messages[{}]", i);
    if (!v[i].is_object()) wrong(field, "an object with role and content", v[i]);
    chat::Message m;
    bool has_role = false, has_content = false;
    for (const auto& [k, x] : v[i].items()) {
      if (k == "role") {
        m.role = get_string(x, field + ".role");
        if (m.role != "system" && m.role != "user" && m.role != "assistant")
          wrong(field + ".role", "system, user or assistant", x);
        has_role = true;
      } else if (k == "content") {
        if (!x.is_null()) m.content = message_content(x, field + ".content");
        has_content = true;
      } else if (k == "name") {
        get_string(x, field + ".name");
      } else {
        unknown(field + "." + k);
      }
    }
    if (!has_role) missing(field + ".role");
    if (!has_content) missing(field + ".content");
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

ChatRequest parse_chat_request(std::string_view body) {
  const json j = parse_object(body);
  ChatRequest r;
  bool has_messages = false, logprobs = false;
  std::optional<int> top_logprobs;
  for (const auto& [k, v] : j.items()) {
    if (k == "messages") {
      r.messages = get_messages(v);
      has_messages = true;
    } else if (k == "logprobs" && !v.is_null()) {
      logprobs = get_bool(v, k);
    } else if (k == "top_logprobs" && !v.is_null()) {
      top_logprobs = static_cast<int>(get_int(v, k, 0, kMaxLogprobs));
    } else if (k != "logprobs" && k != "top_logprobs" && !gen_field(k, v, r.gen) &&
               !openai_field(k, v, r.gen)) {
      unknown(k);
    }
  }
  if (!has_messages) missing("messages");
  // As OpenAI: top_logprobs only with logprobs.
  if (top_logprobs && !logprobs)
    throw RequestError("top_logprobs", "top_logprobs needs \"logprobs\": true");
  if (logprobs) r.gen.logprobs = top_logprobs.value_or(0);
  check_sampler(r.gen);
  return r;
}

CompletionRequest parse_completion_request(std::string_view body) {
  const json j = parse_object(body);
  CompletionRequest r;
  bool has_prompt = false;
  for (const auto& [k, v] : j.items()) {
    if (k == "prompt") {
      r.prompt = get_string(v, k);
      has_prompt = true;
    } else if (k == "echo") {
      if (get_bool(v, k)) wrong(k, "false (echoing the prompt is not built yet)", v);
    } else if (k == "logprobs" && !v.is_null()) {
      // The legacy API's form: how many alternatives per token, at most 5.
      r.gen.logprobs = static_cast<int>(get_int(v, k, 0, 5));
    } else if (k != "logprobs" && !gen_field(k, v, r.gen) && !openai_field(k, v, r.gen)) {
      unknown(k);
    }
  }
  if (!has_prompt) missing("prompt");
  check_sampler(r.gen);
  return r;
}

InfillRequest parse_infill_request(std::string_view body) {
  const json j = parse_object(body);
  InfillRequest r;
  r.gen.max_tokens_field = "n_predict";
  for (const auto& [k, v] : j.items()) {
    if (k == "input_prefix") {
      r.input_prefix = get_string(v, k);
    } else if (k == "input_suffix") {
      r.input_suffix = get_string(v, k);
    } else if (k == "prompt") {
      r.prompt = get_string(v, k);
    } else if (k == "input_extra") {
      if (!v.is_array()) wrong(k, "an array of {\"filename\", \"text\"} objects", v);
      for (size_t i = 0; i < v.size(); ++i) {
        const std::string field = fmt::format("input_extra[{}]", i);
        if (!v[i].is_object()) wrong(field, "an object {\"filename\", \"text\"}", v[i]);
        // llama-server's default name for a chunk without one.
        chat::RepoFile f{"tmp", ""};
        for (const auto& [fk, fv] : v[i].items()) {
          if (fk == "filename") f.path = get_string(fv, field + ".filename");
          else if (fk == "text") f.content = get_string(fv, field + ".text");
          else unknown(field + "." + fk);
        }
        r.input_extra.push_back(std::move(f));
      }
    } else if (k == "n_predict") {
      // llama.cpp's spelling; -1: no limit.
      const int64_t n = get_int(v, k, -1, std::numeric_limits<int32_t>::max());
      r.gen.max_tokens = n < 0 ? std::nullopt : std::optional<int64_t>(n);
      r.gen.max_tokens_field = k;
    } else if (k == "cache_prompt") {
      get_bool(v, k);  // prompt reuse is always on
    } else if (!gen_field(k, v, r.gen)) {
      unknown(k);
    }
  }
  check_sampler(r.gen);
  return r;
}

TokenizeRequest parse_tokenize_request(std::string_view body) {
  const json j = parse_object(body);
  TokenizeRequest r;
  bool has_content = false;
  for (const auto& [k, v] : j.items()) {
    if (k == "content") {
      r.content = get_string(v, k);
      has_content = true;
    } else if (k == "parse_special") {
      r.parse_special = get_bool(v, k);
    } else if (k == "add_special") {
      get_bool(v, k);  // Qwen2 adds no BOS/EOS, so there is nothing to add
    } else {
      unknown(k);
    }
  }
  if (!has_content) missing("content");
  return r;
}

DetokenizeRequest parse_detokenize_request(std::string_view body) {
  const json j = parse_object(body);
  DetokenizeRequest r;
  bool has_tokens = false;
  for (const auto& [k, v] : j.items()) {
    if (k != "tokens") unknown(k);
    if (!v.is_array()) wrong(k, "an array of token ids", v);
    for (size_t i = 0; i < v.size(); ++i)
      r.tokens.push_back(static_cast<int32_t>(
          get_int(v[i], fmt::format("tokens[{}]", i), 0, std::numeric_limits<int32_t>::max())));
    has_tokens = true;
  }
  if (!has_tokens) missing("tokens");
  return r;
}

}  // namespace brickc::serve
