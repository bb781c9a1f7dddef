#include "runtime/serve/engine.h"

#include <algorithm>

#include "ir/error.h"

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

Engine::Engine(runtime::Decoder& decoder, const tokenizer::Tokenizer& tok,
               std::vector<int32_t> eog, int64_t max_waiting)
    : decoder_(decoder), tok_(tok), eog_(std::move(eog)), max_waiting_(max_waiting) {}

std::shared_ptr<Engine::Ticket> Engine::admit() {
  if (stopping_) return nullptr;
  if (++metrics_.waiting > max_waiting_) {
    --metrics_.waiting;
    return nullptr;
  }
  return std::make_shared<Ticket>(metrics_);
}

Outcome Engine::generate(Ticket& t, std::span<const int32_t> prompt, const GenParams& g,
                         const TextFn& on_text) {
  std::lock_guard lock(model_);
  t.started_ = true;
  --metrics_.waiting;
  ++metrics_.processing;
  struct Done {
    Metrics& m;
    ~Done() { --m.processing; }
  } done{metrics_};
  if (stopping_) fail("the server is shutting down");

  // The longest prefix of the prompt the cache holds; one token at least is evaluated, for
  // the logits of the first sample.
  const auto common = std::mismatch(cached_.begin(), cached_.end(), prompt.begin(), prompt.end());
  const size_t reuse = std::min(static_cast<size_t>(common.first - cached_.begin()),
                                prompt.size() - 1);
  cached_.clear();
  sampling::Sampler sampler(g.sampler);
  runtime::Session session(decoder_, sampler);
  session.resume(prompt.first(reuse));
  runtime::GenerateOptions go;
  go.n_predict = g.max_tokens.value_or(-1);
  go.eog = eog_;
  bool halt = false, hit_stop = false;
  std::vector<int32_t> generated;
  go.interrupted = [&] { return halt || stopping_; };

  tokenizer::StreamDecoder dec(tok_);
  std::string text;
  size_t sent = 0;
  // Log-probabilities, and where each token's text starts and ends in `text` (a token
  // whose bytes end inside a character ends where that character does).
  std::vector<TokenLogprobs> probs;
  std::vector<std::pair<size_t, size_t>> spans;
  size_t released = 0;  // entries handed to on_text
  // Hands out text up to `end` and the entries whose text is out; `all` at the end.
  auto send = [&](size_t end, bool all) {
    size_t upto = released;
    while (upto < probs.size() && (all || spans[upto].second <= end)) ++upto;
    if (end <= sent && upto == released) return;
    const std::string_view part = std::string_view(text).substr(sent, end > sent ? end - sent : 0);
    if (!on_text(part, std::span(probs).subspan(released, upto - released))) halt = true;
    sent = std::max(sent, end);
    released = upto;
  };
  const runtime::GenerateStats s = session.generate(prompt.subspan(reuse), go, [&](int32_t tok) {
    generated.push_back(tok);
    if (halt) return;
    if (g.logprobs) probs.push_back(token_logprobs(decoder_.logits(), tok, *g.logprobs, tok_));
    // A stop string can only begin in the text not yet sent: held_back kept every tail
    // that could start one.
    const size_t from = sent, start = text.size();
    text += valid_utf8(dec.push(tok));
    if (g.logprobs) spans.emplace_back(start, text.size());
    size_t cut = std::string::npos;
    for (const auto& stop : g.stop) cut = std::min(cut, text.find(stop, from));
    if (cut != std::string::npos) {
      text.resize(cut);
      while (!spans.empty() && spans.back().first >= cut && spans.size() > released) {
        spans.pop_back();
        probs.pop_back();
      }
      hit_stop = halt = true;
      send(text.size(), true);
      return;
    }
    send(text.size() - held_back(text, g.stop), false);
  });
  if (!hit_stop) {
    text += valid_utf8(dec.flush());
    send(text.size(), true);
  }

  // The cache now holds the prompt and the generated tokens fed back.
  cached_.assign(prompt.begin(), prompt.end());
  cached_.insert(cached_.end(), generated.begin(), generated.end());
  cached_.resize(static_cast<size_t>(decoder_.n_past()));

  Outcome o;
  o.text = std::move(text);
  o.logprobs = std::move(probs);
  o.prompt_tokens = static_cast<int64_t>(prompt.size());
  o.cached_tokens = static_cast<int64_t>(reuse);
  o.completion_tokens = s.n_generated;
  const bool length = s.stop == runtime::StopReason::kLimit ||
                      s.stop == runtime::StopReason::kContextFull;
  o.finish_reason = length && !hit_stop ? "length" : "stop";
  metrics_.prompt_tokens += s.n_prompt;
  metrics_.cached_tokens += static_cast<int64_t>(reuse);
  metrics_.generated_tokens += s.n_generated;
  ++metrics_.completions;
  if (s.t_prefill > 0) metrics_.prefill_tok_s = s.n_prompt / s.t_prefill;
  if (s.n_decoded > 0 && s.t_decode > 0) metrics_.decode_tok_s = s.n_decoded / s.t_decode;
  return o;
}

}  // namespace brickc::serve
