// The vocabulary of a byte-level BPE model as a GGUF stores it (tokenizer.ggml.*): token
// texts, token types, merges and special ids. Checks that the model is one brickc can
// tokenize (gpt2 BPE with the qwen2 pre-tokenizer). Not the encoding itself.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace brickc::gguf {
class File;
}

namespace brickc::tokenizer {

// tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
enum class TokenType : int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};

struct Vocab {
  std::string source;  // the file it came from, for error messages
  std::string model = "gpt2";
  std::string pre = "qwen2";
  std::vector<std::string> tokens;  // byte-mapped texts, in id order
  std::vector<TokenType> types;     // same length as tokens
  std::vector<std::string> merges;  // "left right", in rank order
  std::optional<int32_t> bos, eos, eot, pad;
  // tokenizer.ggml.add_bos_token: llama.cpp puts BOS in front of a text it tokenizes with
  // its special tokens (absent: false, the gpt2 BPE default; Qwen2.5 files say false).
  bool add_bos = false;

  int32_t size() const { return static_cast<int32_t>(tokens.size()); }

  // Error unless model is gpt2 and pre is qwen2, the arrays agree in length, every type
  // is a known value, every special id is in range and add_bos has a BOS id to add. Names
  // `source` and the key.
  void validate() const;

  // Reads tokenizer.ggml.{model, pre, tokens, token_type, merges, *_token_id,
  // add_bos_token} and validates. token_type may be absent (all NORMAL, as in llama.cpp).
  static Vocab from_gguf(const gguf::File& f);
};

}  // namespace brickc::tokenizer
