#include "runtime/npy.h"

#include <fmt/format.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <utility>

#include "ir/error.h"

namespace brickc {

static_assert(std::endian::native == std::endian::little, "'<f4' assumes a little-endian host");

std::string npy_f32_header(int64_t rows, int64_t cols, size_t total) {
  std::string dict =
      fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}", rows, cols);
  constexpr size_t kPrefix = 10;  // magic (6), version (2), header length (2)
  if (total % 64 != 0 || kPrefix + dict.size() + 1 > total || total - kPrefix > 0xffff)
    fail("internal: .npy header of {} bytes cannot hold {}", total, dict);
  dict.resize(total - kPrefix - 1, ' ');
  dict += '\n';
  const size_t len = dict.size();
  std::string h = "\x93NUMPY";
  h += '\x01';
  h += '\x00';
  h += static_cast<char>(len & 0xff);
  h += static_cast<char>(len >> 8);
  return h + dict;
}

NpyWriter::NpyWriter(const std::string& path, int64_t cols) : path_(path), cols_(cols) {
  if (cols <= 0) fail("{}: .npy rows must have a positive length, found {}", path, cols);
  f_ = std::fopen(path.c_str(), "wb");
  if (!f_) fail("{}: cannot create: {}", path, std::strerror(errno));
  const std::string h = npy_f32_header(0, cols_, kHeaderBytes);
  if (std::fwrite(h.data(), 1, h.size(), f_) != h.size())
    fail("{}: write failed: {}", path_, std::strerror(errno));
}

NpyWriter::~NpyWriter() {
  if (!f_) return;
  try {
    close();
  } catch (const Error&) {
  }
}

void NpyWriter::append(std::span<const float> row) {
  if (!f_) fail("{}: append after close", path_);
  if (static_cast<int64_t>(row.size()) != cols_)
    fail("{}: row of {} values, expected {}", path_, row.size(), cols_);
  if (std::fwrite(row.data(), sizeof(float), row.size(), f_) != row.size())
    fail("{}: write failed: {}", path_, std::strerror(errno));
  ++rows_;
}

void NpyWriter::close() {
  if (!f_) return;
  std::FILE* f = std::exchange(f_, nullptr);
  const std::string h = npy_f32_header(rows_, cols_, kHeaderBytes);
  const bool ok =
      std::fseek(f, 0, SEEK_SET) == 0 && std::fwrite(h.data(), 1, h.size(), f) == h.size();
  const int err = errno;
  if (std::fclose(f) != 0 || !ok)
    fail("{}: write failed: {}", path_, std::strerror(ok ? errno : err));
}

}  // namespace brickc
