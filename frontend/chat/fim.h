// Fill-in-the-middle prompts for Qwen2.5-Coder: the file-level form
// <|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>, and the repo-level form
// that llama-server's /infill builds, with other files of the repository in front:
//   <|repo_name|>{repo}\n <|file_sep|>{path}\n{content} ... <|file_sep|>{path}\n <FIM part>
// Not truncation to a context size: the caller decides what fits.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "frontend/chat/special_tokens.h"
#include "frontend/tokenizer/tokenizer.h"

namespace brickc::chat {

struct RepoFile {
  std::string path;
  std::string content;  // as is: no newline is added after it
};

struct FimRequest {
  std::string prefix;  // code before the cursor
  std::string suffix;  // code after it
  // Repo-level when set: the repository's name, the other files, the current file's path.
  std::optional<std::string> repo;
  std::vector<RepoFile> files;
  std::string path;
};

// Token ids of the prompt. Each text piece is encoded on its own without special-token
// parsing, so code that contains "<|fim_prefix|>" stays text (as llama-server does).
// Error when the request is repo-level and the vocabulary lacks <|repo_name|> or
// <|file_sep|>, or when it has files but no repository name.
std::vector<int32_t> fim_prompt_tokens(tokenizer::Tokenizer& tok, const FimTokens& ids,
                                       const FimRequest& r);

// The same prompt as text, special tokens spelled out: for printing.
std::string fim_prompt_text(const FimRequest& r);

}  // namespace brickc::chat
