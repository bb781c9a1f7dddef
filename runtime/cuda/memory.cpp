#include "runtime/cuda/memory.h"

#include <fmt/format.h>

#include <utility>

#include "ir/error.h"
#include "runtime/cuda/api.h"

namespace brickc::cuda {

double mib(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

namespace {

std::string current_device_name() {
  const DriverApi& api = driver();
  CUdevice d;
  char name[256] = {};
  if (api.cuCtxGetDevice(&d) != CUDA_SUCCESS ||
      api.cuDeviceGetName(name, sizeof name - 1, d) != CUDA_SUCCESS)
    return "the current device";
  return name;
}

// The plain copy and memset calls run on the legacy stream and may return before the DMA
// or the memset finishes; brickc's streams are non-blocking, so wait here.
void finish_legacy_stream(std::string_view op, std::string_view what) {
  if (CUresult r = driver().cuStreamSynchronize(nullptr); r != CUDA_SUCCESS)
    fail("CUDA error while finishing {} of {}: {}", op, what, describe(r));
}

[[noreturn]] void out_of_memory(std::string_view what, size_t bytes) {
  size_t free = 0, total = 0;
  driver().cuMemGetInfo(&free, &total);
  fail("out of GPU memory: {} needs {:.1f} MiB, {:.1f} MiB free of {:.1f} MiB on {}", what,
       mib(bytes), mib(free), mib(total), current_device_name());
}

}  // namespace

DeviceBuffer::DeviceBuffer(size_t bytes, std::string_view what) : size_(bytes), what_(what) {
  if (bytes == 0) return;
  CUdeviceptr p = 0;
  CUresult r = driver().cuMemAlloc(&p, bytes);
  if (r == CUDA_ERROR_OUT_OF_MEMORY) out_of_memory(what, bytes);
  check(r, fmt::format("cuMemAlloc of {} bytes for {}", bytes, what));
  ptr_ = p;
}

DeviceBuffer::~DeviceBuffer() { release(); }

DeviceBuffer::DeviceBuffer(DeviceBuffer&& o) noexcept
    : ptr_(std::exchange(o.ptr_, 0)), size_(std::exchange(o.size_, 0)), what_(std::move(o.what_)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    release();
    ptr_ = std::exchange(o.ptr_, 0);
    size_ = std::exchange(o.size_, 0);
    what_ = std::move(o.what_);
  }
  return *this;
}

void DeviceBuffer::release() noexcept {
  // A failure here means the context is already broken; the error surfaced elsewhere.
  if (ptr_) driver().cuMemFree(ptr_);
  ptr_ = 0;
}

void DeviceBuffer::check_range(size_t bytes, size_t offset, std::string_view op) const {
  if (bytes > size_ || offset > size_ - bytes)
    fail("{} of {} bytes at offset {} is outside GPU buffer {} ({} bytes)", op, bytes, offset,
         what_, size_);
}

void DeviceBuffer::upload(const void* src, size_t bytes, size_t offset) {
  check_range(bytes, offset, "upload");
  if (!bytes) return;
  check(driver().cuMemcpyHtoD(ptr_ + offset, src, bytes), fmt::format("cuMemcpyHtoD to {}", what_));
  finish_legacy_stream("upload", what_);
}

void DeviceBuffer::download(void* dst, size_t bytes, size_t offset) const {
  check_range(bytes, offset, "download");
  if (bytes)
    check(driver().cuMemcpyDtoH(dst, ptr_ + offset, bytes),
          fmt::format("cuMemcpyDtoH from {}", what_));
}

void DeviceBuffer::upload_async(const void* src, size_t bytes, size_t offset, StreamHandle s) {
  check_range(bytes, offset, "upload");
  if (bytes)
    check(driver().cuMemcpyHtoDAsync(ptr_ + offset, src, bytes, s),
          fmt::format("cuMemcpyHtoDAsync to {}", what_));
}

void DeviceBuffer::download_async(void* dst, size_t bytes, size_t offset, StreamHandle s) const {
  check_range(bytes, offset, "download");
  if (bytes)
    check(driver().cuMemcpyDtoHAsync(dst, ptr_ + offset, bytes, s),
          fmt::format("cuMemcpyDtoHAsync from {}", what_));
}

void DeviceBuffer::fill_u8(uint8_t v) {
  if (!size_) return;
  check(driver().cuMemsetD8(ptr_, v, size_), fmt::format("cuMemsetD8 of {}", what_));
  finish_legacy_stream("fill", what_);
}

void DeviceBuffer::fill_u32(uint32_t v) {
  check_words();
  if (!size_) return;
  check(driver().cuMemsetD32(ptr_, v, size_ / 4), fmt::format("cuMemsetD32 of {}", what_));
  finish_legacy_stream("fill", what_);
}

void DeviceBuffer::fill_u8_async(uint8_t v, StreamHandle s) {
  if (size_)
    check(driver().cuMemsetD8Async(ptr_, v, size_, s), fmt::format("cuMemsetD8Async of {}", what_));
}

void DeviceBuffer::fill_u32_async(uint32_t v, StreamHandle s) {
  check_words();
  if (size_)
    check(driver().cuMemsetD32Async(ptr_, v, size_ / 4, s),
          fmt::format("cuMemsetD32Async of {}", what_));
}

void DeviceBuffer::check_words() const {
  if (size_ % 4 != 0)
    fail("fill_u32 of GPU buffer {}: {} bytes is not a multiple of 4", what_, size_);
}

PinnedBuffer::PinnedBuffer(size_t bytes, std::string_view what) : size_(bytes) {
  if (bytes == 0) return;
  CUresult r = driver().cuMemAllocHost(&data_, bytes);
  if (r == CUDA_ERROR_OUT_OF_MEMORY)
    fail("out of pinned host memory: {} needs {:.1f} MiB", what, mib(bytes));
  check(r, fmt::format("cuMemAllocHost of {} bytes for {}", bytes, what));
}

PinnedBuffer::~PinnedBuffer() { release(); }

PinnedBuffer::PinnedBuffer(PinnedBuffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& o) noexcept {
  if (this != &o) {
    release();
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

void PinnedBuffer::release() noexcept {
  if (data_) driver().cuMemFreeHost(data_);
  data_ = nullptr;
}

}  // namespace brickc::cuda
