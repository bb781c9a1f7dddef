#include "frontend/chat/special_tokens.h"

#include <algorithm>
#include <string>

#include "frontend/gguf/reader.h"
#include "ir/error.h"

namespace brickc::chat {

namespace {

struct FimSlot {
  const char* key;   // GGUF key suffix: tokenizer.ggml.fim_<key>_token_id
  const char* text;  // the token's text in Qwen2.5's vocabulary
};
constexpr FimSlot kPrefix{"pre", "<|fim_prefix|>"}, kSuffix{"suf", "<|fim_suffix|>"},
    kMiddle{"mid", "<|fim_middle|>"}, kPad{"pad", "<|fim_pad|>"},
    kRepo{"rep", "<|repo_name|>"}, kSep{"sep", "<|file_sep|>"};

// `lookup(slot)` gives the id or nullopt; the three that every FIM prompt needs must exist.
template <typename Lookup>
FimTokens collect(const tokenizer::Vocab& v, Lookup lookup) {
  auto required = [&](const FimSlot& s) {
    const auto id = lookup(s);
    if (!id)
      fail("{}: no FIM token '{}' (neither tokenizer.ggml.fim_{}_token_id nor a token with "
           "that text): this model cannot fill in the middle",
           v.source, s.text, s.key);
    return *id;
  };
  FimTokens t;
  t.prefix = required(kPrefix);
  t.suffix = required(kSuffix);
  t.middle = required(kMiddle);
  t.pad = lookup(kPad);
  t.repo_name = lookup(kRepo);
  t.file_sep = lookup(kSep);
  return t;
}

}  // namespace

std::optional<int32_t> find_token(const tokenizer::Vocab& v, std::string_view text) {
  const auto it = std::find(v.tokens.begin(), v.tokens.end(), text);
  if (it == v.tokens.end()) return std::nullopt;
  return static_cast<int32_t>(it - v.tokens.begin());
}

FimTokens FimTokens::from_vocab(const tokenizer::Vocab& v) {
  return collect(v, [&](const FimSlot& s) { return find_token(v, s.text); });
}

FimTokens FimTokens::from_gguf(const gguf::File& f, const tokenizer::Vocab& v) {
  return collect(v, [&](const FimSlot& s) -> std::optional<int32_t> {
    const std::string key = std::string("tokenizer.ggml.fim_") + s.key + "_token_id";
    if (const auto id = f.find_u32(key)) {
      if (*id >= static_cast<uint32_t>(v.size()))
        fail("{}: {} is {}: expected a token id below {}", f.path(), key, *id, v.size());
      return static_cast<int32_t>(*id);
    }
    return find_token(v, s.text);
  });
}

std::vector<int32_t> eog_tokens(const tokenizer::Vocab& v) {
  std::vector<int32_t> ids;
  for (const auto& id : {v.eos, v.eot})
    if (id) ids.push_back(*id);
  for (const char* text : {"<|endoftext|>", "<|im_end|>", kPad.text, kRepo.text, kSep.text})
    if (const auto id = find_token(v, text)) ids.push_back(*id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace brickc::chat
