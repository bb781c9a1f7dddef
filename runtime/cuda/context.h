// The CUDA context brickc runs in: the device's primary context, retained and made current
// for the calling thread. One per process is the normal case.
#pragma once
#include <cstddef>
#include <string>

#include "runtime/cuda/driver.h"
#include "runtime/cuda/handles.h"

namespace brickc::cuda {

struct MemInfo {
  size_t free = 0, total = 0;  // bytes
};

class Context {
 public:
  // fail()s saying why when CUDA is unusable or the ordinal names no device.
  explicit Context(int ordinal = 0);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  Context(Context&& o) noexcept;
  Context& operator=(Context&& o) noexcept;

  const DeviceInfo& info() const { return info_; }
  void make_current() const;  // for threads other than the one that created it
  MemInfo mem_info() const;
  std::string arch() const;  // "sm_90"
  ContextHandle get() const { return ctx_; }
  void synchronize(std::string_view what) const;  // cuCtxSynchronize; errors name `what`

 private:
  void release() noexcept;
  DeviceInfo info_;
  int device_ = -1;  // CUdevice
  ContextHandle ctx_ = nullptr;
};

// "<driver version>|<device name>|<arch>": what module_cache.h keys compiled kernels on.
std::string device_tag(const Context& c);

}  // namespace brickc::cuda
