// libFuzzer target: arbitrary bytes as a GGUF file through everything that reads a model
// before its weights are used: the reader, the Qwen2 config and tensor checks, the IR
// import, the tokenizer, the chat template and FIM tokens. A malformed file must end in
// brickc::Error; any other exception, a crash or an out-of-bounds read is a finding.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "frontend/chat/chatml.h"
#include "frontend/chat/special_tokens.h"
#include "frontend/gguf/reader.h"
#include "frontend/qwen2/importer.h"
#include "frontend/tokenizer/tokenizer.h"
#include "ir/error.h"

namespace {

// The reader maps files: the input goes into an anonymous in-memory file, opened by path.
class MemFile {
 public:
  MemFile(const uint8_t* data, size_t size) : fd_(memfd_create("brickc-fuzz.gguf", 0)) {
    if (fd_ < 0 || write(fd_, data, size) != static_cast<ssize_t>(size)) {
      perror("memfd");
      abort();
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() { close(fd_); }
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

// Touches every byte the reader vouched for, so that a wrong bound shows up under ASan.
uint8_t touch(const brickc::gguf::File& f) {
  uint8_t x = 0;
  for (const auto& t : f.tensors())
    for (uint64_t i = 0; i < t.nbytes; i += 61) x ^= t.data[i];
  return x;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace brickc;
  MemFile mem(data, size);
  try {
    auto f = gguf::File::open(mem.path());
    volatile uint8_t sink = touch(*f);
    (void)sink;
    try {
      qwen2::import_qwen2(*f);
    } catch (const Error&) {
    }
    auto tok = tokenizer::Tokenizer::from_gguf(*f);
    chat::FimTokens::from_gguf(*f, tok.vocab());
    chat::eog_tokens(tok.vocab());
    chat::ChatTemplate::from_gguf(*f, tok.vocab());
    tok.decode(tok.encode("def f(x):\n    return x  # <|endoftext|>"), true);
  } catch (const Error&) {
  }
  return 0;
}
