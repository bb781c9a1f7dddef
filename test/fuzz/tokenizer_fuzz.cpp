// libFuzzer target: arbitrary bytes through the Qwen2 tokenizer, with and without special
// tokens (the first byte chooses). Byte-level BPE spells every input: decoding the ids
// with their special texts gives back the input as the tokenizer read it (valid UTF-8
// exactly; other bytes as llama.cpp reads them, each stray byte one U+FFFD, which the
// tokenizer's unit tests pin down), and a stream decoder fed the ids one by one gives the
// same bytes. Anything else is a finding.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "frontend/gguf/reader.h"
#include "frontend/synth/synth.h"
#include "frontend/tokenizer/tokenizer.h"
#include "frontend/tokenizer/utf8.h"

namespace {

[[noreturn]] void finding(const char* what, std::string_view text) {
  fprintf(stderr, "tokenizer_fuzz: %s for %zu bytes of input\n", what, text.size());
  abort();
}

// The vocabulary: Qwen2.5's own (BRICKC_VOCAB names its tokenizer.json) or, by default,
// the generated one brickc synth writes into test models.
brickc::tokenizer::Tokenizer load() {
  namespace fs = std::filesystem;
  using namespace brickc;
  synth::Options o;
  o.model = "test-tiny";
  o.mix = synth::QuantMix::Q8_0;
  o.layers = 1;
  o.threads = 1;
  if (const char* v = std::getenv("BRICKC_VOCAB")) {
    o.vocab_path = v;
    o.vocab_size = 151936;
  }
  const fs::path path =
      fs::temp_directory_path() / fmt::format("brickc-tokenizer-fuzz-{}.gguf", getpid());
  synth::synthesize(o, path.string());
  auto f = gguf::File::open(path.string());
  fs::remove(path);  // the mapping outlives the name
  return tokenizer::Tokenizer::from_gguf(*f);
}

brickc::tokenizer::Tokenizer& tok() {
  static brickc::tokenizer::Tokenizer t = load();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tok();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool parse_special = data[0] & 1;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<int32_t> ids = tok().encode(text, parse_special);
  for (int32_t id : ids)
    if (id < 0 || id >= tok().vocab().size()) finding("token id outside the vocabulary", text);
  std::string read;
  if (brickc::tokenizer::is_valid_utf8(text)) {
    read = text;
  } else {
    for (uint32_t cp : brickc::tokenizer::decode_utf8_lenient(text))
      brickc::tokenizer::append_utf8(read, cp);
  }
  if (tok().decode(ids, /*special=*/true) != read) finding("decode(encode(text)) != text", text);
  brickc::tokenizer::StreamDecoder stream(tok(), /*special=*/true);
  std::string streamed;
  for (int32_t id : ids) streamed += stream.push(id);
  streamed += stream.flush();
  if (streamed != read) finding("streamed decode != text", text);
  return 0;
}
