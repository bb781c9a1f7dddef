// UTF-8 helpers of the tokenizer: strict validation (what PCRE2 accepts), the lenient
// decoding llama.cpp applies to text that is not valid UTF-8, and the completeness test
// the streaming decoder uses. Not a general-purpose Unicode library.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace brickc::tokenizer {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

// Shortest-form encoding of `cp` (<= 0x10FFFF; surrogates are encoded as 3 bytes, as
// llama.cpp's unicode_cpt_to_utf8 does).
std::string encode_utf8(uint32_t cp);
void append_utf8(std::string& out, uint32_t cp);

// True if `s` is well-formed UTF-8: no overlong forms, surrogates or codepoints above
// U+10FFFF.
bool is_valid_utf8(std::string_view s);

// llama.cpp's reading of arbitrary bytes (unicode_cpts_from_utf8): a lead byte followed
// by the right number of continuation bytes is one codepoint, even when overlong or a
// surrogate; any other byte is U+FFFD and decoding resumes at the next byte. A 4-byte
// form above U+10FFFF, which llama.cpp cannot re-encode, is also read as U+FFFD here.
std::vector<uint32_t> decode_utf8_lenient(std::string_view s);

// Length of the longest prefix of `s` that does not end inside a sequence that later
// bytes could still complete. Bytes that can never become valid count as complete, so
// they are passed on rather than held forever.
size_t utf8_complete_prefix(std::string_view s);

}  // namespace brickc::tokenizer
