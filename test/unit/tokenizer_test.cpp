// frontend/tokenizer: the byte map against the ranges of gguf-qwen2.md §6, BPE against a
// naive quadratic merger written here, special-token splitting, the streaming decoder and
// the model checks. Parity with llama.cpp and Hugging Face on the real vocabulary is
// test/ref/test_tokenizer_parity.py.
#include "frontend/tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <functional>
#include <random>
#include <set>

#include <unistd.h>

#include "frontend/gguf/reader.h"
#include "frontend/gguf/writer.h"
#include "frontend/tokenizer/byte_map.h"
#include "frontend/tokenizer/pretokenize.h"
#include "frontend/tokenizer/utf8.h"
#include "ir/error.h"

namespace tk = brickc::tokenizer;
using tk::TokenType;

namespace {

// 256 single-byte tokens (ids 0..255, id = byte), then `extra` tokens.
tk::Vocab byte_vocab(const std::vector<std::pair<std::string, TokenType>>& extra = {},
                     const std::vector<std::string>& merges = {}) {
  tk::Vocab v;
  v.source = "test-vocab";
  for (int b = 0; b < 256; ++b) {
    v.tokens.emplace_back(tk::byte_to_utf8(static_cast<uint8_t>(b)));
    v.types.push_back(TokenType::Normal);
  }
  for (const auto& [text, type] : extra) {
    v.tokens.push_back(text);
    v.types.push_back(type);
  }
  v.merges = merges;
  return v;
}

// The textbook algorithm: repeatedly merge the lowest-ranked adjacent pair, leftmost
// first, rescanning the whole word each time.
std::vector<std::string> naive_bpe(const std::string& word, const std::vector<std::string>& merges) {
  std::vector<std::string> syms;
  for (unsigned char c : word) syms.emplace_back(tk::byte_to_utf8(c));
  for (;;) {
    size_t best = SIZE_MAX, best_rank = SIZE_MAX;
    for (size_t i = 0; i + 1 < syms.size(); ++i) {
      auto it = std::find(merges.begin(), merges.end(), syms[i] + " " + syms[i + 1]);
      const size_t r = static_cast<size_t>(it - merges.begin());
      if (it != merges.end() && r < best_rank) best = i, best_rank = r;
    }
    if (best == SIZE_MAX) return syms;
    syms[best] += syms[best + 1];
    syms.erase(syms.begin() + static_cast<long>(best) + 1);
  }
}

}  // namespace

TEST(ByteMap, IsABijectionWithTheDocumentedRanges) {
  std::set<uint32_t> seen;
  uint32_t next_shifted = 0x100;
  for (int b = 0; b < 256; ++b) {
    const uint32_t cp = tk::byte_to_codepoint(static_cast<uint8_t>(b));
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    // Printable bytes are themselves; the 68 others take U+0100.. in ascending order.
    EXPECT_EQ(cp, printable ? static_cast<uint32_t>(b) : next_shifted++) << "byte " << b;
    EXPECT_TRUE(seen.insert(cp).second) << "codepoint " << cp << " used twice";
    EXPECT_EQ(tk::codepoint_to_byte(cp), b);
    EXPECT_EQ(tk::byte_to_utf8(static_cast<uint8_t>(b)), tk::encode_utf8(cp));
  }
  EXPECT_EQ(next_shifted, 0x100u + 68u);
  EXPECT_EQ(tk::byte_to_codepoint(' '), 0x120u);   // 'Ġ'
  EXPECT_EQ(tk::byte_to_codepoint('\n'), 0x10Au);  // 'Ċ'
  EXPECT_EQ(tk::codepoint_to_byte(0x144), -1);
  EXPECT_EQ(tk::codepoint_to_byte('\n'), -1);
}

TEST(Bpe, MatchesANaiveMergerOnRandomWordsAndMerges) {
  std::mt19937 rng(std::random_device{}());
  for (int trial = 0; trial < 20; ++trial) {
    // Random merges over a 4-letter alphabet, each joining two texts that exist already.
    std::vector<std::string> texts = {"a", "b", "c", "d"};
    std::vector<std::string> merges;
    std::vector<std::pair<std::string, TokenType>> extra;
    for (int m = 0; m < 40; ++m) {
      const std::string l = texts[rng() % texts.size()];
      const std::string r = texts[rng() % texts.size()];
      const std::string merge = l + " " + r;
      if (std::find(merges.begin(), merges.end(), merge) != merges.end()) continue;
      merges.push_back(merge);
      if (std::find(texts.begin(), texts.end(), l + r) == texts.end()) {
        texts.push_back(l + r);
        extra.emplace_back(l + r, TokenType::Normal);
      }
    }
    tk::Vocab v = byte_vocab(extra, merges);
    const std::vector<std::string> tokens = v.tokens;
    tk::Tokenizer tok(std::move(v));
    for (int w = 0; w < 50; ++w) {
      std::string word;
      const int len = 1 + static_cast<int>(rng() % 16);
      for (int i = 0; i < len; ++i) word += static_cast<char>('a' + rng() % 4);
      std::vector<std::string> got;
      for (int32_t id : tok.encode(word)) got.push_back(tokens[id]);
      EXPECT_EQ(got, naive_bpe(word, merges)) << "word " << word;
    }
  }
}

TEST(Bpe, SymbolOutsideTheVocabularyFallsBackToItsBytes) {
  // "ab" is merged but not a token, so it is emitted as the tokens of 'a' and 'b'.
  tk::Tokenizer tok(byte_vocab({}, {"a b"}));
  EXPECT_EQ(tok.encode("ab"), (std::vector<int32_t>{'a', 'b'}));
}

TEST(SpecialTokens, PartitionWithAndWithoutParseSpecial) {
  tk::Tokenizer tok(byte_vocab({{"<|end|>", TokenType::Control},
                                {"<tool>", TokenType::UserDefined},
                                {"<|end|>!", TokenType::Control},
                                {"[PAD0]", TokenType::Unused}}));
  const int32_t end = 256, tool = 257, end_bang = 258;
  EXPECT_EQ(tok.encode("a<|end|>b<tool>c"),
            (std::vector<int32_t>{'a', end, 'b', tool, 'c'}));
  // Without parse_special the control text is ordinary text, the user-defined one is not.
  std::vector<int32_t> plain;
  for (char c : std::string("a<|end|>b")) plain.push_back(static_cast<unsigned char>(c));
  plain.push_back(tool);
  plain.push_back('c');
  EXPECT_EQ(tok.encode("a<|end|>b<tool>c", /*parse_special=*/false), plain);
  // Longest first: "<|end|>!" wins over its prefix "<|end|>".
  EXPECT_EQ(tok.encode("<|end|>!<|end|>"), (std::vector<int32_t>{end_bang, end}));
  // UNUSED tokens are never matched in text.
  EXPECT_EQ(tok.encode("[PAD0]").size(), 6u);
}

TEST(Decode, ControlHiddenUnlessAskedAndUnusedEmpty) {
  tk::Tokenizer tok(byte_vocab({{"<|end|>", TokenType::Control},
                                {"<tool>", TokenType::UserDefined},
                                {"[PAD0]", TokenType::Unused}}));
  const std::vector<int32_t> ids = {'h', 256, 'i', 257, 258, ' '};
  EXPECT_EQ(tok.decode(ids), "hi<tool> ");
  EXPECT_EQ(tok.decode(ids, /*special=*/true), "h<|end|>i<tool> ");
  EXPECT_THROW(tok.token_to_piece(259), brickc::Error);
  EXPECT_THROW(tok.token_to_piece(-1), brickc::Error);
}

TEST(StreamDecoder, NeverEmitsPartOfACharacter) {
  tk::Tokenizer tok(byte_vocab());
  tk::StreamDecoder dec(tok);
  // "€" (E2 82 AC) and "😀" (F0 9F 98 80) arrive one byte-token at a time.
  EXPECT_EQ(dec.push(0xE2), "");
  EXPECT_EQ(dec.push(0x82), "");
  EXPECT_EQ(dec.push(0xAC), "\xE2\x82\xAC");
  EXPECT_EQ(dec.push('x'), "x");
  EXPECT_EQ(dec.push(0xF0), "");
  EXPECT_EQ(dec.push(0x9F), "");
  EXPECT_EQ(dec.push(0x98), "");
  EXPECT_EQ(dec.push(0x80), "\xF0\x9F\x98\x80");
  // A byte that can never start a character is passed on at once.
  EXPECT_EQ(dec.push(0xFF), "\xFF");
  // An unfinished character interrupted by ASCII: the stray lead byte goes out with it.
  EXPECT_EQ(dec.push(0xC3), "");
  EXPECT_EQ(dec.push('y'), "\xC3y");
  EXPECT_EQ(dec.push(0xE2), "");
  EXPECT_EQ(dec.flush(), "\xE2");
}

TEST(StreamDecoder, RandomTextInRandomChunksIsValidAtEveryStep) {
  std::mt19937 rng(std::random_device{}());
  const uint32_t samples[] = {'a', ' ', 0xE9, 0x3B1, 0x4E2D, 0x1F600, 0x10FFFF, 0x800, 0x7FF};
  tk::Tokenizer tok(byte_vocab());
  for (int trial = 0; trial < 200; ++trial) {
    std::string text;
    for (int i = 0; i < 20; ++i) tk::append_utf8(text, samples[rng() % std::size(samples)]);
    tk::StreamDecoder dec(tok);
    std::string out;
    for (unsigned char c : text) {
      const std::string part = dec.push(c);
      EXPECT_TRUE(tk::is_valid_utf8(part)) << "emitted a partial character";
      out += part;
    }
    out += dec.flush();
    EXPECT_EQ(out, text);
  }
}

TEST(PreTokenizer, PiecesSpellTheInputAndInvalidBytesAreReadLikeLlamaCpp) {
  std::mt19937 rng(std::random_device{}());
  tk::PreTokenizer pre;
  const uint32_t samples[] = {'a', 'Z', '7', ' ', '\n', '\r', '\t', '\'', 's', '.', '{',
                              0xA0, 0xE9, 0x301, 0x661, 0x4E2D, 0x3000, 0x1F600};
  for (int trial = 0; trial < 300; ++trial) {
    std::string text;
    for (int i = 0; i < 30; ++i) tk::append_utf8(text, samples[rng() % std::size(samples)]);
    std::string scratch;
    std::vector<std::string_view> pieces;
    pre.split(text, scratch, pieces);
    std::string joined;
    for (auto p : pieces) {
      EXPECT_FALSE(p.empty());
      joined += p;
    }
    EXPECT_EQ(joined, text);
  }
  // Stray continuation, 0xFF and a truncated sequence each become U+FFFD; an overlong
  // form is read as the codepoint it spells (C0 80 -> U+0000).
  std::string scratch;
  std::vector<std::string_view> pieces;
  pre.split("\x80\xFF\xE2\x82 \xC0\x80", scratch, pieces);
  std::string joined;
  for (auto p : pieces) joined += p;
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(joined, fffd + fffd + fffd + fffd + " " + std::string(1, '\0'));
  // A 4-byte form above U+10FFFF (which makes llama.cpp abort): U+FFFD for each byte.
  pieces.clear();
  pre.split("\xF4\x90\x80\x80", scratch, pieces);
  joined.clear();
  for (auto p : pieces) joined += p;
  EXPECT_EQ(joined, fffd + fffd + fffd + fffd);
}

TEST(Vocab, RejectsModelsOtherThanGpt2Qwen2) {
  tk::Vocab v = byte_vocab();
  v.model = "llama";
  try {
    tk::Tokenizer tok(v);
    FAIL() << "a llama (SentencePiece) vocabulary was accepted";
  } catch (const brickc::Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.model is 'llama'"), std::string::npos)
        << e.what();
  }
  v.model = "gpt2";
  v.pre = "llama-bpe";
  try {
    tk::Tokenizer tok(v);
    FAIL() << "the llama-bpe pre-tokenizer was accepted";
  } catch (const brickc::Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.pre is 'llama-bpe'"), std::string::npos)
        << e.what();
  }
  v.pre = "qwen2";
  v.types.pop_back();
  EXPECT_THROW(tk::Tokenizer{v}, brickc::Error);
  v = byte_vocab({}, {"ab"});
  EXPECT_THROW(tk::Tokenizer{v}, brickc::Error);  // a merge without a space
}

TEST(Vocab, FromGgufNamesTheFileKeyAndValue) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("brickc_tokenizer_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& model, bool with_pre,
                   const std::function<void(brickc::gguf::Writer&)>& extra = {}) {
    const std::string path = (dir / name).string();
    brickc::gguf::Writer w(path);
    if (extra) extra(w);
    w.add("general.architecture", brickc::gguf::Value::str("qwen2"));
    w.add("tokenizer.ggml.model", brickc::gguf::Value::str(model));
    if (with_pre) w.add("tokenizer.ggml.pre", brickc::gguf::Value::str("qwen2"));
    tk::Vocab v = byte_vocab({{"<|end|>", TokenType::Control}}, {"a b"});
    std::vector<int32_t> types;
    for (TokenType t : v.types) types.push_back(static_cast<int32_t>(t));
    w.add("tokenizer.ggml.tokens", brickc::gguf::Value::str_array(v.tokens));
    w.add("tokenizer.ggml.token_type", brickc::gguf::Value::i32_array(types));
    w.add("tokenizer.ggml.merges", brickc::gguf::Value::str_array(v.merges));
    w.finish();
    return path;
  };
  auto error_of = [](const std::string& path) -> std::string {
    try {
      auto f = brickc::gguf::File::open(path);
      tk::Tokenizer::from_gguf(*f);
    } catch (const brickc::Error& e) {
      return e.what();
    }
    return "";
  };
  const std::string llama = write("llama.gguf", "llama", true);
  const std::string err = error_of(llama);
  EXPECT_NE(err.find(llama), std::string::npos) << err;
  EXPECT_NE(err.find("tokenizer.ggml.model is 'llama'"), std::string::npos) << err;
  const std::string no_pre = write("nopre.gguf", "gpt2", false);
  EXPECT_NE(error_of(no_pre).find("tokenizer.ggml.pre is missing"), std::string::npos);
  // The same metadata with the pre-tokenizer key loads and tokenizes.
  auto f = brickc::gguf::File::open(write("ok.gguf", "gpt2", true));
  auto tok = tk::Tokenizer::from_gguf(*f);
  EXPECT_EQ(tok.encode("a<|end|>"), (std::vector<int32_t>{'a', 256}));
  EXPECT_FALSE(tok.vocab().add_bos) << "absent add_bos_token: false";

  // tokenizer.ggml.add_bos_token: read as a bool, and it needs a BOS id to add.
  using brickc::gguf::Value;
  auto bos = [](bool add, bool with_id) {
    return [=](brickc::gguf::Writer& w) {
      w.add("tokenizer.ggml.add_bos_token", Value::boolean(add));
      if (with_id) w.add("tokenizer.ggml.bos_token_id", Value::u32(256));
    };
  };
  f = brickc::gguf::File::open(write("bos.gguf", "gpt2", true, bos(true, true)));
  tk::Vocab v = tk::Vocab::from_gguf(*f);
  EXPECT_TRUE(v.add_bos);
  EXPECT_EQ(v.bos, 256);
  f = brickc::gguf::File::open(write("nobos.gguf", "gpt2", true, bos(false, true)));
  EXPECT_FALSE(tk::Vocab::from_gguf(*f).add_bos);
  EXPECT_NE(error_of(write("bos-noid.gguf", "gpt2", true, bos(true, false)))
                .find("tokenizer.ggml.add_bos_token is true but tokenizer.ggml.bos_token_id is "
                      "missing"),
            std::string::npos);
  const std::string wrong = error_of(write("bos-u32.gguf", "gpt2", true, [](auto& w) {
    w.add("tokenizer.ggml.add_bos_token", Value::u32(1));
  }));
  EXPECT_NE(wrong.find("tokenizer.ggml.add_bos_token is u32, expected bool"), std::string::npos)
      << wrong;
  fs::remove_all(dir);
}
