// Device and pinned host memory owned by RAII handles, in the current context. Errors name
// the buffer (`what`), so "out of GPU memory" says which tensor did not fit.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/cuda/handles.h"

namespace brickc::cuda {

// Bytes in MiB, for messages.
double mib(uint64_t bytes);

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  // Zero bytes is allowed and allocates nothing (ptr() == 0).
  DeviceBuffer(size_t bytes, std::string_view what);
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;

  DevicePtr ptr() const { return ptr_; }
  size_t size() const { return size_; }
  const std::string& what() const { return what_; }

  // Copies and fills that have completed on return, so that work on any stream sees them.
  // download() does not wait for other streams: sync the stream that wrote the buffer.
  // Ranges are checked: fail() naming the buffer when [offset, offset + bytes) exceeds it.
  void upload(const void* src, size_t bytes, size_t offset = 0);
  void download(void* dst, size_t bytes, size_t offset = 0) const;
  void fill_u8(uint8_t v);
  void fill_u32(uint32_t v);  // size() must be a multiple of 4

  // Stream-ordered versions; `src`/`dst` must stay valid until the stream reaches them.
  void upload_async(const void* src, size_t bytes, size_t offset, StreamHandle s);
  void download_async(void* dst, size_t bytes, size_t offset, StreamHandle s) const;
  void fill_u8_async(uint8_t v, StreamHandle s);
  void fill_u32_async(uint32_t v, StreamHandle s);

 private:
  void check_range(size_t bytes, size_t offset, std::string_view op) const;
  void check_words() const;
  void release() noexcept;
  DevicePtr ptr_ = 0;
  size_t size_ = 0;
  std::string what_;
};

// Page-locked host memory: the host side of fast and truly asynchronous copies.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  PinnedBuffer(size_t bytes, std::string_view what);
  ~PinnedBuffer();
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  PinnedBuffer(PinnedBuffer&& o) noexcept;
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept;

  void* data() { return data_; }
  const void* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void release() noexcept;
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace brickc::cuda
