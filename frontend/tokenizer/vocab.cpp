#include "frontend/tokenizer/vocab.h"

#include "frontend/gguf/reader.h"
#include "ir/error.h"

namespace brickc::tokenizer {

void Vocab::validate() const {
  if (model != "gpt2")
    fail("{}: tokenizer.ggml.model is '{}': brickc supports only 'gpt2' (byte-level BPE)",
         source, model);
  if (pre != "qwen2")
    fail("{}: tokenizer.ggml.pre is '{}': brickc supports only the 'qwen2' pre-tokenizer",
         source, pre);
  if (tokens.empty()) fail("{}: tokenizer.ggml.tokens is empty", source);
  if (types.size() != tokens.size())
    fail("{}: tokenizer.ggml.token_type has {} entries, expected one per token ({})", source,
         types.size(), tokens.size());
  for (size_t i = 0; i < types.size(); ++i) {
    const auto t = static_cast<int32_t>(types[i]);
    if (t < 0 || t > static_cast<int32_t>(TokenType::Byte))
      fail("{}: tokenizer.ggml.token_type[{}] is {}: expected 0..6", source, i, t);
  }
  const std::pair<const char*, const std::optional<int32_t>*> ids[] = {
      {"tokenizer.ggml.bos_token_id", &bos},
      {"tokenizer.ggml.eos_token_id", &eos},
      {"tokenizer.ggml.eot_token_id", &eot},
      {"tokenizer.ggml.padding_token_id", &pad}};
  for (const auto& [name, id] : ids)
    if (*id && (**id < 0 || **id >= size()))
      fail("{}: {} is {}: expected a token id below {}", source, name, **id, size());
  if (add_bos && !bos)
    fail("{}: tokenizer.ggml.add_bos_token is true but tokenizer.ggml.bos_token_id is missing",
         source);
}

Vocab Vocab::from_gguf(const gguf::File& f) {
  Vocab v;
  v.source = f.path();
  v.model = f.get_str("tokenizer.ggml.model");
  if (v.model != "gpt2") v.validate();  // the model's own error, before keys it may lack
  const auto pre = f.find_str("tokenizer.ggml.pre");
  if (!pre) fail("{}: tokenizer.ggml.pre is missing: expected 'qwen2'", v.source);
  v.pre = *pre;
  v.tokens = f.get_str_array("tokenizer.ggml.tokens");
  if (f.find("tokenizer.ggml.token_type")) {
    for (int32_t t : f.get_i32_array("tokenizer.ggml.token_type"))
      v.types.push_back(static_cast<TokenType>(t));
  } else {
    v.types.assign(v.tokens.size(), TokenType::Normal);
  }
  v.merges = f.get_str_array("tokenizer.ggml.merges");
  auto id = [&](const char* key) -> std::optional<int32_t> {
    const auto x = f.find_u32(key);
    if (!x) return std::nullopt;
    // Out-of-range ids become negative or too large and are reported by validate().
    return static_cast<int32_t>(*x);
  };
  v.bos = id("tokenizer.ggml.bos_token_id");
  v.eos = id("tokenizer.ggml.eos_token_id");
  v.eot = id("tokenizer.ggml.eot_token_id");
  v.pad = id("tokenizer.ggml.padding_token_id");
  if (const gguf::Value* add = f.find("tokenizer.ggml.add_bos_token")) {
    if (add->type != gguf::ValueType::BOOL)
      fail("{}: tokenizer.ggml.add_bos_token is {}, expected bool", v.source,
           gguf::name(add->type));
    v.add_bos = std::get<bool>(add->v);
  }
  v.validate();
  return v;
}

}  // namespace brickc::tokenizer
