#include "frontend/chat/chatml.h"

#include <fmt/format.h>

#include "frontend/chat/special_tokens.h"
#include "frontend/gguf/reader.h"
#include "ir/error.h"

namespace brickc::chat {

namespace {

constexpr std::string_view kStart = "<|im_start|>", kEnd = "<|im_end|>";

// The start of `text`, with control characters escaped, for an error message.
std::string excerpt(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 60)) {
    if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return text.size() > 60 ? out + "..." : out;
}

// Qwen's template writes its default system turn as one string literal,
// '<|im_start|>system\nYou are Qwen, ...<|im_end|>\n'; the turn that copies the user's
// system message is built from pieces ('...system\n' + messages[0]['content'] + ...).
// So the default is the body of a system turn that contains no quote, brace or '+'.
// Inside the literal, \n is an escape and stands for a newline.
std::optional<std::string> find_default_system(std::string_view t) {
  for (const std::string_view open : {std::string_view("<|im_start|>system\\n"),
                                      std::string_view("<|im_start|>system\n")}) {
    for (size_t at = t.find(open); at != std::string_view::npos; at = t.find(open, at + 1)) {
      const size_t body = at + open.size();
      const size_t end = t.find(kEnd, body);
      if (end == std::string_view::npos) continue;
      const std::string_view raw = t.substr(body, end - body);
      if (raw.find_first_of("'\"{}+") != std::string_view::npos) continue;
      std::string text;
      bool ok = true;
      for (size_t i = 0; i < raw.size() && ok; ++i) {
        if (raw[i] != '\\') {
          text += raw[i];
        } else if (i + 1 < raw.size() && raw[i + 1] == 'n') {
          text += '\n';
          ++i;
        } else {
          ok = false;  // an escape we do not interpret: do not guess
        }
      }
      if (ok && !text.empty()) return text;
    }
  }
  return std::nullopt;
}

}  // namespace

ChatTemplate ChatTemplate::from_text(std::string_view text, std::string_view source) {
  if (text.find(kStart) == std::string_view::npos || text.find(kEnd) == std::string_view::npos)
    fail("{}: tokenizer.chat_template is not ChatML: expected '{}' and '{}' in it, found a "
         "template of {} bytes beginning '{}'; brickc renders ChatML only",
         source, kStart, kEnd, text.size(), excerpt(text));
  ChatTemplate t;
  t.default_system_ = find_default_system(text);
  return t;
}

ChatTemplate ChatTemplate::from_gguf(const gguf::File& f, const tokenizer::Vocab& v) {
  const auto text = f.find_str("tokenizer.chat_template");
  if (!text)
    fail("{}: has no tokenizer.chat_template: chat needs a ChatML template "
         "('{}' ... '{}') as Qwen2.5-Instruct models have; use run for plain completion",
         f.path(), kStart, kEnd);
  ChatTemplate t = from_text(*text, f.path());
  for (const std::string_view tok : {kStart, kEnd})
    if (!find_token(v, tok))
      fail("{}: tokenizer.chat_template is ChatML but the vocabulary has no '{}' token",
           f.path(), tok);
  return t;
}

std::string ChatTemplate::render(std::span<const Message> messages,
                                 bool add_generation_prompt) const {
  std::string out;
  auto turn = [&](std::string_view role, std::string_view content) {
    out += kStart;
    out += role;
    out += '\n';
    out += content;
    out += kEnd;
    out += '\n';
  };
  if (default_system_ && (messages.empty() || messages[0].role != "system"))
    turn("system", *default_system_);
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    if (m.role != "system" && m.role != "user" && m.role != "assistant")
      fail("chat: message {} has role '{}': expected system, user or assistant", i, m.role);
    turn(m.role, m.content);
  }
  if (add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

}  // namespace brickc::chat
