// Text <-> token ids for Qwen2-family GGUF models, matching llama.cpp: special tokens are
// split out first (longest first), the rest is pre-tokenized (qwen2 regex) and merged by
// byte-level BPE. Decoding inverts the byte map; StreamDecoder hands out text as tokens
// arrive without ever cutting a UTF-8 character. Not chat templates.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/tokenizer/bpe.h"
#include "frontend/tokenizer/pretokenize.h"
#include "frontend/tokenizer/vocab.h"

namespace brickc::gguf {
class File;
}

namespace brickc::tokenizer {

class Tokenizer {
 public:
  explicit Tokenizer(Vocab vocab);  // validates `vocab`
  static Tokenizer from_gguf(const gguf::File& f);

  // Token ids of `text` (any bytes). With parse_special, CONTROL, USER_DEFINED and
  // UNKNOWN token texts in `text` become those tokens; without it only USER_DEFINED ones
  // do (llama.cpp's parse_special). No BOS/EOS is added. Not const: BPE caches pieces.
  std::vector<int32_t> encode(std::string_view text, bool parse_special = true);

  // Bytes of one token (llama_token_to_piece): NORMAL through the inverse byte map,
  // USER_DEFINED verbatim, CONTROL/UNKNOWN verbatim only with `special`, others nothing.
  // Error for an id outside the vocabulary. May be part of a UTF-8 character.
  std::string token_to_piece(int32_t id, bool special = true) const;
  // Concatenated pieces.
  std::string decode(const std::vector<int32_t>& ids, bool special = false) const;

  const Vocab& vocab() const { return vocab_; }

 private:
  struct Special {
    std::string_view text;
    int32_t id;
    bool always;  // USER_DEFINED: matched even without parse_special
  };
  Vocab vocab_;
  Bpe bpe_;
  PreTokenizer pre_;
  std::vector<Special> specials_;  // longest text first
  std::vector<std::string> pieces_;  // token_to_piece(id, true), precomputed
};

// Turns a stream of token ids into text that can be printed as it comes: bytes of a
// UTF-8 character split across tokens are held until the character is complete. Bytes
// that can never form a character are passed on as they are.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok, bool special = false)
      : tok_(tok), special_(special) {}
  std::string push(int32_t id);
  std::string flush();  // whatever is held (an unfinished character at end of stream)

 private:
  const Tokenizer& tok_;
  bool special_;
  std::string pending_;
};

}  // namespace brickc::tokenizer
