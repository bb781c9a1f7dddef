#include "runtime/serve/reply.h"

#include <algorithm>

namespace brickc::serve {
namespace {

// How many bytes at the end of `text` could be the start of a stop string: those are held
// back, since the next token may complete the stop string and they must then not be sent.
size_t held_back(std::string_view text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const auto& s : stops)
    for (size_t n = std::min(s.size() - 1, text.size()); n > hold; --n)
      if (text.ends_with(std::string_view(s).substr(0, n))) {
        hold = n;
        break;
      }
  return hold;
}

// `piece` with every ill-formed UTF-8 subpart replaced by U+FFFD, one per maximal subpart
// as Unicode recommends (and Python's errors="replace" does): a JSON answer must be valid
// UTF-8, and a stream and a whole answer must agree on the text. StreamDecoder only cuts
// between characters, so each piece can be mended alone.
std::string valid_utf8(std::string_view piece) {
  std::string out;
  size_t i = 0;
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(piece[k]); };
  while (i < piece.size()) {
    const unsigned char b = byte(i);
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (b < 0x80) len = 1;
    else if (b >= 0xC2 && b <= 0xDF) len = 2;
    else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      if (b == 0xE0) lo = 0xA0;  // no overlong forms
      if (b == 0xED) hi = 0x9F;  // no surrogates
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    }
    size_t n = 1;  // bytes of a well-formed prefix
    while (len > 1 && n < len && i + n < piece.size()) {
      const unsigned char c = byte(i + n);
      if (c < (n == 1 ? lo : 0x80) || c > (n == 1 ? hi : 0xBF)) break;
      ++n;
    }
    if (len > 0 && n == len) out.append(piece.substr(i, n));
    else out += "\xEF\xBF\xBD";
    i += n;
  }
  return out;
}

}  // namespace

Reply::Reply(const tokenizer::Tokenizer& tok, const GenParams& g, TextFn on_text)
    : tok_(tok), g_(g), on_text_(std::move(on_text)), dec_(tok) {}

void Reply::send(size_t end, bool all) {
  size_t upto = released_;
  while (upto < probs_.size() && (all || spans_[upto].second <= end)) ++upto;
  if (end <= sent_ && upto == released_) return;
  const std::string_view part = std::string_view(text_).substr(sent_, end > sent_ ? end - sent_ : 0);
  if (!on_text_(part, std::span(probs_).subspan(released_, upto - released_))) halt_ = true;
  sent_ = std::max(sent_, end);
  released_ = upto;
}

bool Reply::add(int32_t token, std::span<const float> logits) {
  if (halt_) return false;
  if (g_.logprobs) probs_.push_back(token_logprobs(logits, token, *g_.logprobs, tok_));
  // A stop string can only begin in the text not yet sent: held_back kept every tail that
  // could start one.
  const size_t from = sent_, start = text_.size();
  text_ += valid_utf8(dec_.push(token));
  if (g_.logprobs) spans_.emplace_back(start, text_.size());
  size_t cut = std::string::npos;
  for (const auto& stop : g_.stop) cut = std::min(cut, text_.find(stop, from));
  if (cut != std::string::npos) {
    text_.resize(cut);
    while (!spans_.empty() && spans_.back().first >= cut && spans_.size() > released_) {
      spans_.pop_back();
      probs_.pop_back();
    }
    hit_stop_ = halt_ = true;
    send(text_.size(), true);
    return false;
  }
  send(text_.size() - held_back(text_, g_.stop), false);
  return !halt_;
}

void Reply::finish() {
  if (hit_stop_) return;
  text_ += valid_utf8(dec_.flush());
  send(text_.size(), true);
}

}  // namespace brickc::serve
