#include "frontend/tokenizer/bpe.h"

#include <algorithm>
#include <climits>

#include "frontend/tokenizer/byte_map.h"
#include "ir/error.h"

namespace brickc::tokenizer {
namespace {

// Enough for the pieces of a few MB of source code; a piece is a word, a number digit,
// an operator run or a whitespace run, so most repeat.
constexpr size_t kCacheEntries = 1 << 17;
// Longer pieces (long whitespace or punctuation runs) are rare and not worth a slot.
constexpr size_t kCacheMaxPiece = 64;

}  // namespace

int32_t Bpe::intern(const std::string& text) {
  auto [it, added] = sym_of_text_.try_emplace(text, 0);
  if (added) {
    it->second = n_vocab_ + static_cast<int32_t>(extra_texts_.size());
    extra_texts_.push_back(text);
  }
  return it->second;
}

Bpe::Bpe(const std::vector<std::string>& tokens, const std::vector<std::string>& merges,
         std::string_view where)
    : n_vocab_(static_cast<int32_t>(tokens.size())) {
  sym_of_text_.reserve(tokens.size() + merges.size() / 4);
  for (int32_t id = 0; id < n_vocab_; ++id) sym_of_text_.insert_or_assign(tokens[id], id);
  for (int b = 0; b < 256; ++b)
    byte_sym_[b] = intern(std::string(byte_to_utf8(static_cast<uint8_t>(b))));
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& m = merges[rank];
    // Searching from 1 lets a merge's left part start with a space, as llama.cpp does.
    const size_t sp = m.find(' ', 1);
    if (sp == std::string::npos)
      fail("{}: tokenizer.ggml.merges[{}] is '{}': expected two symbols separated by a space",
           where, rank, m);
    const std::string left = m.substr(0, sp), right = m.substr(sp + 1);
    const int32_t l = intern(left), r = intern(right), res = intern(left + right);
    merges_.try_emplace(key(l, r), Merge{static_cast<int32_t>(rank), res});
  }
}

void Bpe::emit(int32_t sym, std::vector<int32_t>& out) const {
  if (sym < n_vocab_) {
    out.push_back(sym);
    return;
  }
  // A symbol the vocabulary lacks: llama.cpp falls back to the single-byte tokens of
  // its text, dropping bytes that have none.
  for (char c : extra_texts_[sym - n_vocab_]) {
    auto it = sym_of_text_.find(std::string(1, c));
    if (it != sym_of_text_.end() && it->second < n_vocab_) out.push_back(it->second);
  }
}

void Bpe::merge_piece(std::string_view piece, std::vector<int32_t>& out) {
  const int32_t n = static_cast<int32_t>(piece.size());
  sym_.resize(n);
  prev_.resize(n);
  next_.resize(n);
  heap_.clear();
  for (int32_t i = 0; i < n; ++i) {
    sym_[i] = byte_sym_[static_cast<unsigned char>(piece[i])];
    prev_[i] = i - 1;
    next_[i] = i + 1 < n ? i + 1 : -1;
  }
  // Min-heap on (rank, left position): lowest rank first, leftmost among equals.
  auto later = [](const Cand& a, const Cand& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
  };
  auto consider = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    auto it = merges_.find(key(sym_[l], sym_[r]));
    if (it == merges_.end()) return;
    heap_.push_back({it->second.rank, l, r, sym_[l], sym_[r], it->second.result});
    std::push_heap(heap_.begin(), heap_.end(), later);
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i, i + 1);
  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    const Cand c = heap_.back();
    heap_.pop_back();
    // Symbols only grow by absorbing their right neighbour, so a candidate is current
    // exactly when both symbols are unchanged and still adjacent.
    if (sym_[c.left] != c.left_sym || sym_[c.right] != c.right_sym || next_[c.left] != c.right)
      continue;
    sym_[c.left] = c.result;
    sym_[c.right] = -1;
    next_[c.left] = next_[c.right];
    if (next_[c.left] >= 0) prev_[next_[c.left]] = c.left;
    consider(prev_[c.left], c.left);
    consider(c.left, next_[c.left]);
  }
  for (int32_t i = 0; i >= 0; i = next_[i]) emit(sym_[i], out);
}

void Bpe::encode(std::string_view piece, std::vector<int32_t>& out) {
  if (piece.empty()) return;
  if (piece.size() == 1) {
    emit(byte_sym_[static_cast<unsigned char>(piece[0])], out);
    return;
  }
  if (piece.size() > kCacheMaxPiece) {
    // Symbol positions are int32_t; only a run of whitespace or punctuation over 2 GiB
    // long could exceed that.
    if (piece.size() > static_cast<size_t>(INT32_MAX))
      fail("tokenizer: one pre-token of {} bytes is too long (at most {})", piece.size(), INT32_MAX);
    merge_piece(piece, out);
    return;
  }
  if (auto it = cache_.find(piece); it != cache_.end()) {
    out.insert(out.end(), cache_ids_.begin() + it->second.off,
               cache_ids_.begin() + it->second.off + it->second.len);
    return;
  }
  const size_t first = out.size();
  merge_piece(piece, out);
  if (cache_.size() >= kCacheEntries) {
    cache_.clear();
    cache_ids_.clear();
  }
  cache_.emplace(std::string(piece),
                 Span{static_cast<uint32_t>(cache_ids_.size()), static_cast<uint32_t>(out.size() - first)});
  cache_ids_.insert(cache_ids_.end(), out.begin() + first, out.end());
}

}  // namespace brickc::tokenizer
