// Special token ids that prompt building and the generation loop need, found in a GGUF's
// vocabulary: the FIM tokens (tokenizer.ggml.fim_*_token_id keys, else by their text, as
// llama.cpp does) and the end-of-generation set. Not the tokenizer's special-token matching.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "frontend/tokenizer/vocab.h"

namespace brickc::gguf {
class File;
}

namespace brickc::chat {

// The id of the token whose stored text is exactly `text`, if any.
std::optional<int32_t> find_token(const tokenizer::Vocab& v, std::string_view text);

// Qwen2.5-Coder's FIM tokens. prefix/suffix/middle are required; the repo-level ones
// (repo_name, file_sep) only for repo-level prompts.
struct FimTokens {
  int32_t prefix = -1;  // <|fim_prefix|>
  int32_t suffix = -1;  // <|fim_suffix|>
  int32_t middle = -1;  // <|fim_middle|>
  std::optional<int32_t> pad;        // <|fim_pad|>
  std::optional<int32_t> repo_name;  // <|repo_name|>
  std::optional<int32_t> file_sep;   // <|file_sep|>

  // By text only. Error naming v.source and the missing token.
  static FimTokens from_vocab(const tokenizer::Vocab& v);
  // tokenizer.ggml.fim_{pre,suf,mid,pad,rep,sep}_token_id where present (checked against
  // the vocabulary size), the text otherwise.
  static FimTokens from_gguf(const gguf::File& f, const tokenizer::Vocab& v);
};

// Tokens that end generation, ascending: eos and eot, and the tokens <|endoftext|>,
// <|im_end|>, <|fim_pad|>, <|repo_name|>, <|file_sep|> where the vocabulary has them
// (llama.cpp's EOG set for Qwen2.5: {151643, 151645, 151662, 151663, 151664}).
std::vector<int32_t> eog_tokens(const tokenizer::Vocab& v);

}  // namespace brickc::chat
