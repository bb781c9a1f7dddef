#include "frontend/tokenizer/utf8.h"

namespace brickc::tokenizer {
namespace {

bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

// Number of bytes a sequence starting with `lead` has under the lenient (bit-pattern)
// reading; 0 for a byte that cannot start one.
size_t lenient_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC0) return 0;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF8) return 4;
  return 0;
}

}  // namespace

void append_utf8(std::string& out, uint32_t cp) {
  if (cp <= 0x7F) {
    out += static_cast<char>(cp);
  } else if (cp <= 0x7FF) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp <= 0xFFFF) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | ((cp >> 18) & 0x07));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string encode_utf8(uint32_t cp) {
  std::string s;
  append_utf8(s, cp);
  return s;
}

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // ASCII runs dominate source code; skip them eight bytes at a time.
    while (i + 8 <= n) {
      uint64_t w = 0;
      for (int k = 0; k < 8; ++k) w |= uint64_t{p[i + k]} << (8 * k);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    const size_t len = lenient_length(c);
    if (len < 2 || i + len > n) return false;
    for (size_t k = 1; k < len; ++k)
      if (!is_cont(p[i + k])) return false;
    uint32_t cp = 0;
    if (len == 2) cp = ((c & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu);
    if (len == 3) cp = ((c & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu);
    if (len == 4)
      cp = ((c & 0x07u) << 18) | ((p[i + 1] & 0x3Fu) << 12) | ((p[i + 2] & 0x3Fu) << 6) |
           (p[i + 3] & 0x3Fu);
    const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

std::vector<uint32_t> decode_utf8_lenient(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  std::vector<uint32_t> out;
  out.reserve(n);
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    const size_t len = lenient_length(c);
    bool ok = len >= 1 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) ok = is_cont(p[i + k]);
    uint32_t cp = 0;
    if (ok) {
      switch (len) {
        case 1: cp = c; break;
        case 2: cp = ((c & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu); break;
        case 3: cp = ((c & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu); break;
        default:
          cp = ((c & 0x07u) << 18) | ((p[i + 1] & 0x3Fu) << 12) | ((p[i + 2] & 0x3Fu) << 6) |
               (p[i + 3] & 0x3Fu);
      }
      ok = cp <= 0x10FFFF;
    }
    if (ok) {
      out.push_back(cp);
      i += len;
    } else {
      out.push_back(kReplacementChar);
      ++i;
    }
  }
  return out;
}

size_t utf8_complete_prefix(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  // Only the last three bytes can belong to an unfinished sequence.
  const size_t from = n > 3 ? n - 3 : 0;
  for (size_t i = from; i < n; ++i) {
    const size_t len = lenient_length(p[i]);
    if (len < 2 || i + len <= n) continue;
    bool cont_so_far = true;
    for (size_t k = i + 1; k < n; ++k) cont_so_far = cont_so_far && is_cont(p[k]);
    if (cont_so_far) return i;
  }
  return n;
}

}  // namespace brickc::tokenizer
