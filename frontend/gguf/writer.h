// GGUF v3 writer that streams: metadata and tensor infos first, then each tensor's bytes
// in declaration order, so a 32B model is written without holding it in memory. The file
// appears under its final name only when finish() succeeds (written to a temp, renamed).
#pragma once
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/gguf/value.h"
#include "ir/dtype.h"

namespace brickc::gguf {

class Writer {
 public:
  explicit Writer(std::string path, uint32_t alignment = 32);
  ~Writer();  // removes the temp file if finish() was not reached
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Declaration phase. Key order and tensor order are kept as given. An alignment other
  // than 32 is also written as general.alignment.
  void add(std::string key, Value v);
  void add_tensor(std::string name, std::vector<int64_t> ne, DType type);

  // Data phase, tensors in declaration order. begin_tensor() names the next declared
  // tensor (the first call writes the header); write() appends part of its bytes, so a
  // tensor can be streamed in chunks. Each tensor must receive exactly
  // row_bytes(type, ne0) * rows bytes: checked at the next begin_tensor() and at finish().
  void begin_tensor(std::string_view name);
  void write(std::span<const uint8_t> bytes);
  void write_tensor(std::string_view name, std::span<const uint8_t> bytes) {
    begin_tensor(name);
    write(bytes);
  }
  void finish();

  uint64_t data_bytes() const;  // total padded tensor bytes declared so far

 private:
  struct Pending {
    std::string name;
    std::vector<int64_t> ne;
    DType type;
    uint64_t nbytes;
    uint64_t offset;
  };
  void write_header();
  void end_tensor();  // checks the current tensor got all its bytes, writes its padding
  void put(const void* p, size_t n);

  std::string path_, tmp_path_;
  uint32_t alignment_;
  std::vector<std::pair<std::string, Value>> kv_;
  std::vector<Pending> tensors_;
  size_t next_ = 0;          // index of the next tensor to begin
  uint64_t written_ = 0;     // bytes written for the current tensor
  std::FILE* f_ = nullptr;
  bool header_written_ = false;
  bool finished_ = false;
};

}  // namespace brickc::gguf
