// The qwen2 pre-tokenizer: splits text into the pieces that BPE then merges, with the
// exact regex of gguf-qwen2.md §6 run by PCRE2 in UTF + UCP mode (JIT-compiled where the
// library supports it). Not the special-token split, which happens before this.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace brickc::tokenizer {

// Its pattern is Qwen2's as llama.cpp writes it (tokenizer.json has (?i:'s|'t|...) for the
// contractions; llama.cpp spells out the two cases of each letter), with \s and \S
// spelled as Unicode's White_Space, [\t-\r\x{85}\p{Z}], the whitespace of llama.cpp and
// of Hugging Face's tokenizers: PCRE2's \s also takes U+180E MONGOLIAN VOWEL SEPARATOR
// (a space until Unicode 6.3, a format character since), so " \u180e" split in two. Its
// letters and numbers are those of Unicode 15.1, llama.cpp's tables, whatever the PCRE2
// tables' version (pretokenize.cpp: qwen2_pattern, kLetters15, kNumbers15).
class PreTokenizer {
 public:
  PreTokenizer();  // compiles the pattern above; Error if PCRE2 rejects it
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // Appends the pieces of `text` to `out`; their concatenation is `text` when it is valid
  // UTF-8. Other input is first read the way llama.cpp reads it (utf8.h:
  // decode_utf8_lenient) and re-encoded into `scratch`, and the pieces spell that
  // reading. The views point into `text` or `scratch`.
  void split(std::string_view text, std::string& scratch,
             std::vector<std::string_view>& out) const;

  bool jit() const { return jit_; }

 private:
  // Pieces of `subject` (valid UTF-8), appended to `out` as views into `spelled`, a
  // string with the same byte length and character boundaries.
  void split_valid(std::string_view subject, std::string_view spelled,
                   std::vector<std::string_view>& out) const;

  struct Pcre;
  Pcre* re_ = nullptr;
  bool jit_ = false;
};

}  // namespace brickc::tokenizer
