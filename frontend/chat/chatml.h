// Chat prompts in ChatML, the format of Qwen2.5(-Coder)-Instruct: checks that a GGUF's
// tokenizer.chat_template is ChatML and renders conversations as that template does,
// default system prompt included. Not a Jinja engine: other templates are refused.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "frontend/tokenizer/vocab.h"

namespace brickc::gguf {
class File;
}

namespace brickc::chat {

// What Qwen2.5's template inserts when a conversation does not open with a system message.
inline constexpr std::string_view kQwenDefaultSystem =
    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

struct Message {
  std::string role;  // system, user or assistant
  std::string content;
};

class ChatTemplate {
 public:
  // From the template's text; `source` names where it came from in errors. Error unless
  // it contains <|im_start|> and <|im_end|>.
  static ChatTemplate from_text(std::string_view text, std::string_view source);
  // From tokenizer.chat_template. Error naming the file when the key is missing, the
  // template is not ChatML, or the vocabulary lacks the <|im_start|>/<|im_end|> tokens.
  static ChatTemplate from_gguf(const gguf::File& f, const tokenizer::Vocab& v);

  // `<|im_start|>{role}\n{content}<|im_end|>\n` per message, preceded by the default
  // system message when there is one and messages[0] is not a system message, followed
  // by `<|im_start|>assistant\n` when add_generation_prompt. Error for a role other than
  // system/user/assistant (the template renders tool turns differently).
  std::string render(std::span<const Message> messages, bool add_generation_prompt = true) const;

  // The system prompt the template inserts, read from it: the text of the literal
  // '<|im_start|>system\n...<|im_end|>' that holds no template expression. None if absent.
  const std::optional<std::string>& default_system() const { return default_system_; }

 private:
  std::optional<std::string> default_system_;
};

}  // namespace brickc::chat
