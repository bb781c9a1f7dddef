#include "frontend/tokenizer/byte_map.h"

#include <array>

#include "frontend/tokenizer/utf8.h"

namespace brickc::tokenizer {
namespace {

struct Tables {
  std::array<uint32_t, 256> cp{};
  std::array<std::string, 256> utf8;
  std::array<int16_t, 512> byte_of{};  // every mapped codepoint is below U+0144

  Tables() {
    auto printable = [](int b) {
      return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    byte_of.fill(-1);
    uint32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      cp[b] = printable(b) ? static_cast<uint32_t>(b) : next++;
      utf8[b] = encode_utf8(cp[b]);
      byte_of[cp[b]] = static_cast<int16_t>(b);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

uint32_t byte_to_codepoint(uint8_t b) { return tables().cp[b]; }

std::string_view byte_to_utf8(uint8_t b) { return tables().utf8[b]; }

int codepoint_to_byte(uint32_t cp) {
  return cp < tables().byte_of.size() ? tables().byte_of[cp] : -1;
}

std::string bytes_to_vocab_text(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) out += byte_to_utf8(c);
  return out;
}

}  // namespace brickc::tokenizer
