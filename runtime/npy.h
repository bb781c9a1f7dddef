// Writes float32 matrices as NumPy .npy files (format 1.0) row by row, so that logits of
// thousands of positions never need to be held in memory at once. Little-endian only.
#pragma once
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

namespace brickc {

// The .npy header for a little-endian float32 C-order array of shape [rows, cols]:
// magic, version 1.0, length, the dict, padded with spaces and a newline to `total` bytes
// (a multiple of 64, numpy's alignment).
std::string npy_f32_header(int64_t rows, int64_t cols, size_t total);

class NpyWriter {
 public:
  // Creates `path`; errors name it.
  NpyWriter(const std::string& path, int64_t cols);
  ~NpyWriter();  // closes if close() was not called (errors then go unreported)
  NpyWriter(const NpyWriter&) = delete;
  NpyWriter& operator=(const NpyWriter&) = delete;

  void append(std::span<const float> row);  // row.size() must equal cols
  // Writes the final shape [rows appended, cols] into the header and closes the file.
  void close();
  int64_t rows() const { return rows_; }

  // Fixed header size, so that the row count can be filled in at the end.
  static constexpr size_t kHeaderBytes = 128;

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
  int64_t cols_ = 0, rows_ = 0;
};

}  // namespace brickc
