#include "frontend/tokenizer/tokenizer.h"

#include <algorithm>

#include "frontend/tokenizer/byte_map.h"
#include "frontend/tokenizer/utf8.h"
#include "ir/error.h"

namespace brickc::tokenizer {
namespace {

const Vocab& validated(const Vocab& v) {
  v.validate();
  return v;
}

// The bytes a NORMAL token stands for. A character outside the byte map (none in a
// well-formed vocabulary) is passed through as UTF-8.
std::string unmap(std::string_view text) {
  std::string out;
  for (uint32_t cp : decode_utf8_lenient(text)) {
    const int b = codepoint_to_byte(cp);
    if (b >= 0) out += static_cast<char>(b);
    else append_utf8(out, cp);
  }
  return out;
}

}  // namespace

Tokenizer::Tokenizer(Vocab vocab)
    : vocab_(std::move(vocab)), bpe_(validated(vocab_).tokens, vocab_.merges, vocab_.source) {
  pieces_.reserve(vocab_.tokens.size());
  for (int32_t id = 0; id < vocab_.size(); ++id) {
    const std::string& text = vocab_.tokens[id];
    switch (vocab_.types[id]) {
      case TokenType::Normal:
        pieces_.push_back(unmap(text));
        break;
      case TokenType::Control:
      case TokenType::Unknown:
      case TokenType::UserDefined:
        pieces_.push_back(text);
        if (!text.empty())
          specials_.push_back({text, id, vocab_.types[id] == TokenType::UserDefined});
        break;
      default:  // UNUSED, BYTE, UNDEFINED: llama.cpp's BPE path renders nothing
        pieces_.emplace_back();
    }
  }
  // Longest first, so that a special token containing another wins; ids break ties to
  // keep the order deterministic.
  std::sort(specials_.begin(), specials_.end(), [](const Special& a, const Special& b) {
    return a.text.size() != b.text.size() ? a.text.size() > b.text.size() : a.id < b.id;
  });
}

Tokenizer Tokenizer::from_gguf(const gguf::File& f) { return Tokenizer(Vocab::from_gguf(f)); }

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) {
  // Fragments of `text`: a special token (id >= 0) or raw text still to be searched.
  struct Fragment {
    size_t off, len;
    int32_t id;
  };
  std::vector<Fragment> frags{{0, text.size(), -1}}, next;
  for (const Special& sp : specials_) {
    if (!parse_special && !sp.always) continue;
    next.clear();
    for (const Fragment& f : frags) {
      if (f.id >= 0) {
        next.push_back(f);
        continue;
      }
      const std::string_view raw = text.substr(f.off, f.len);
      size_t pos = 0;
      for (size_t hit; (hit = raw.find(sp.text, pos)) != std::string_view::npos;
           pos = hit + sp.text.size()) {
        if (hit > pos) next.push_back({f.off + pos, hit - pos, -1});
        next.push_back({f.off + hit, sp.text.size(), sp.id});
      }
      if (pos < raw.size()) next.push_back({f.off + pos, raw.size() - pos, -1});
    }
    frags.swap(next);
  }

  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3);
  std::vector<std::string_view> words;
  std::string scratch;
  for (const Fragment& f : frags) {
    if (f.id >= 0) {
      ids.push_back(f.id);
      continue;
    }
    words.clear();
    pre_.split(text.substr(f.off, f.len), scratch, words);
    for (std::string_view w : words) bpe_.encode(w, ids);
  }
  return ids;
}

std::string Tokenizer::token_to_piece(int32_t id, bool special) const {
  if (id < 0 || id >= vocab_.size())
    fail("{}: token id {} is outside the vocabulary (0..{})", vocab_.source, id, vocab_.size() - 1);
  const TokenType t = vocab_.types[id];
  if (!special && (t == TokenType::Control || t == TokenType::Unknown)) return {};
  return pieces_[id];
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool special) const {
  std::string out;
  for (int32_t id : ids) out += token_to_piece(id, special);
  return out;
}

std::string StreamDecoder::push(int32_t id) {
  pending_ += tok_.token_to_piece(id, special_);
  const size_t n = utf8_complete_prefix(pending_);
  std::string out = pending_.substr(0, n);
  pending_.erase(0, n);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace brickc::tokenizer
