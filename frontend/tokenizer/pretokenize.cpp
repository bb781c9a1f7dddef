#include "frontend/tokenizer/pretokenize.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "frontend/tokenizer/utf8.h"
#include "ir/error.h"

namespace brickc::tokenizer {

struct PreTokenizer::Pcre {
  pcre2_code* code = nullptr;
};

namespace {

std::string pcre_message(int rc) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(rc, buf, sizeof buf);
  return reinterpret_cast<const char*>(buf);
}

// Stands in for a surrogate codepoint (which PCRE2 refuses in UTF mode) while matching:
// a private-use character is, like a surrogate, none of \p{L}, \p{N} or \s, and also
// takes three bytes in UTF-8, so byte offsets carry over to the real spelling.
constexpr uint32_t kSurrogateStandIn = 0xE000;

struct MatchData {
  pcre2_match_data* md;
  explicit MatchData(const pcre2_code* code)
      : md(pcre2_match_data_create_from_pattern(code, nullptr)) {
    if (!md) throw std::bad_alloc();
  }
  ~MatchData() { pcre2_match_data_free(md); }
};

// The letters (L*) and numbers (N*) that Unicode 15.0 and 15.1 added. PCRE2 10.42 (Debian
// 12) has Unicode 14's tables and llama.cpp's unicode-data.cpp has 15.1's, so without
// these a CJK Extension H ideograph, a Kawi or Nag Mundari letter or a Kaktovik numeral
// was punctuation here and a letter or number there ("\U00031350$n" split as
// "\U00031350$", "n" against "\U00031350", "$n"). From Unicode 15.0.0's UnicodeData.txt
// and DerivedAge.txt (Debian's unicode-data package), and 15.1's one such addition, CJK
// Extension I (U+2EBF0..U+2EE5D); a PCRE2 with newer tables counts them already.
constexpr std::string_view kLetters15 =
    R"(\x{1123F}\x{11240}\x{11F02}\x{11F04}-\x{11F10}\x{11F12}-\x{11F33}\x{1342F})"
    R"(\x{13441}-\x{13446}\x{1B132}\x{1B155}\x{1DF25}-\x{1DF2A}\x{1E030}-\x{1E06D})"
    R"(\x{1E4D0}-\x{1E4EB}\x{2B739}\x{2EBF0}-\x{2EE5D}\x{31350}-\x{323AF})";
constexpr std::string_view kNumbers15 = R"(\x{11F50}-\x{11F59}\x{1D2C0}-\x{1D2D3}\x{1E4F0}-\x{1E4F9})";

std::string qwen2_pattern() {
  const std::string l = std::string(R"(\p{L})") + std::string(kLetters15);
  const std::string n = std::string(R"(\p{N})") + std::string(kNumbers15);
  const std::string ws = R"(\t-\r\x{85}\p{Z})";
  return R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n)" + l + n + "]?[" + l +
         "]+|[" + n + "]| ?[^" + ws + l + n + R"(]+[\r\n]*|[)" + ws + R"(]*[\r\n]+|[)" + ws + "]+(?![^" +
         ws + "])|[" + ws + "]+";
}

}  // namespace

PreTokenizer::PreTokenizer() : re_(new Pcre) {
  int err = 0;
  PCRE2_SIZE err_off = 0;
  const std::string pattern = qwen2_pattern();
  re_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                            PCRE2_UTF | PCRE2_UCP, &err, &err_off, nullptr);
  if (!re_->code) {
    delete re_;
    fail("tokenizer: PCRE2 rejected the qwen2 pre-tokenizer pattern at offset {}: {}",
         err_off, pcre_message(err));
  }
  // JIT is an optimisation only: the interpreter gives the same matches.
  jit_ = pcre2_jit_compile(re_->code, PCRE2_JIT_COMPLETE) == 0;
}

PreTokenizer::~PreTokenizer() {
  pcre2_code_free(re_->code);
  delete re_;
}

void PreTokenizer::split_valid(std::string_view subject, std::string_view spelled,
                               std::vector<std::string_view>& out) const {
  MatchData m(re_->code);
  const auto* s = reinterpret_cast<PCRE2_SPTR>(subject.data());
  const size_t n = subject.size();
  size_t pos = 0;
  while (pos < n) {
    // The caller guarantees valid UTF-8, so PCRE2 need not re-check it on every call.
    const int rc = jit_ ? pcre2_jit_match(re_->code, s, n, pos, PCRE2_NO_UTF_CHECK, m.md, nullptr)
                        : pcre2_match(re_->code, s, n, pos, PCRE2_NO_UTF_CHECK, m.md, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) fail("tokenizer: PCRE2 failed while splitting text at byte {}: {}", pos, pcre_message(rc));
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(m.md);
    size_t b = ov[0], e = ov[1];
    // Text the pattern skips over is still a piece (llama.cpp keeps it too); the pattern
    // has a catch-all alternative for every character, so this does not happen in practice.
    if (b > pos) out.push_back(spelled.substr(pos, b - pos));
    if (e == b) {  // an empty match cannot happen with this pattern; never loop on one
      e = b + 1;
      while (e < n && (static_cast<unsigned char>(subject[e]) & 0xC0) == 0x80) ++e;
    }
    out.push_back(spelled.substr(b, e - b));
    pos = e;
  }
  if (pos < n) out.push_back(spelled.substr(pos));
}

void PreTokenizer::split(std::string_view text, std::string& scratch,
                         std::vector<std::string_view>& out) const {
  if (is_valid_utf8(text)) {
    split_valid(text, text, out);
    return;
  }
  std::string subject;
  scratch.clear();
  for (uint32_t cp : decode_utf8_lenient(text)) {
    append_utf8(scratch, cp);
    append_utf8(subject, cp >= 0xD800 && cp <= 0xDFFF ? kSurrogateStandIn : cp);
  }
  split_valid(subject, scratch, out);
}

}  // namespace brickc::tokenizer
