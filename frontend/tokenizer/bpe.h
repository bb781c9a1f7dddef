// Byte-level BPE merging of one pre-token: start from one symbol per byte (its mapped
// character), merge the adjacent pair of lowest merge rank (leftmost on ties) until no
// pair has a rank, then look the symbols up in the vocabulary. Not the pre-tokenizer.
#pragma once
#include <array>
#include <functional>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace brickc::tokenizer {

class Bpe {
 public:
  // `tokens`: vocabulary texts in id order (byte-mapped). `merges`: "left right" in rank
  // order. `where` prefixes error messages (the file name). A text that appears twice
  // maps to its last id and a merge that appears twice keeps its first rank, as in
  // llama.cpp.
  Bpe(const std::vector<std::string>& tokens, const std::vector<std::string>& merges,
      std::string_view where);

  // Appends the token ids of `piece` (raw bytes of one pre-token) to `out`. Results are
  // cached per piece, so this is not const and not thread-safe.
  void encode(std::string_view piece, std::vector<int32_t>& out);

 private:
  struct Merge {
    int32_t rank;
    int32_t result;  // symbol id of left+right
  };
  // Symbol ids: vocabulary ids, then texts that merges name but the vocabulary lacks.
  int32_t intern(const std::string& text);
  void merge_piece(std::string_view piece, std::vector<int32_t>& out);
  void emit(int32_t sym, std::vector<int32_t>& out) const;
  static uint64_t key(int32_t l, int32_t r) {
    return (uint64_t{static_cast<uint32_t>(l)} << 32) | static_cast<uint32_t>(r);
  }

  int32_t n_vocab_ = 0;
  std::unordered_map<std::string, int32_t> sym_of_text_;
  std::vector<std::string> extra_texts_;  // texts of symbol ids >= n_vocab_
  std::array<int32_t, 256> byte_sym_{};
  std::unordered_map<uint64_t, Merge> merges_;

  // Per-piece cache: piece bytes -> [offset, count) into cache_ids_. Cleared when full
  // so that memory stays bounded on endless input.
  struct Span {
    uint32_t off, len;
  };
  // Transparent, so that a lookup by string_view builds no std::string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Span, Hash, std::equal_to<>> cache_;
  std::vector<int32_t> cache_ids_;

  // Scratch of merge_piece, kept to avoid reallocating per piece.
  struct Cand {
    int32_t rank, left, right, left_sym, right_sym, result;
  };
  std::vector<int32_t> sym_, prev_, next_;
  std::vector<Cand> heap_;
};

}  // namespace brickc::tokenizer
