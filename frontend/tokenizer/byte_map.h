// The GPT-2 byte <-> unicode map of byte-level BPE: every byte gets one printable
// codepoint so that vocabulary entries are text. Not the pre-tokenizer or the merges.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace brickc::tokenizer {

// Bytes 0x21-0x7E, 0xA1-0xAC and 0xAE-0xFF map to themselves; the other 68 bytes, in
// ascending order, map to U+0100, U+0101, ... (gguf-qwen2.md §6).
uint32_t byte_to_codepoint(uint8_t b);
// The UTF-8 form of byte_to_codepoint(b): 1 or 2 bytes.
std::string_view byte_to_utf8(uint8_t b);
// The inverse: the byte whose codepoint is `cp`, or -1 if `cp` is not in the map's range.
int codepoint_to_byte(uint32_t cp);

// Maps every byte of `raw` through the table (raw bytes -> vocabulary text).
std::string bytes_to_vocab_text(std::string_view raw);

}  // namespace brickc::tokenizer
