#include "runtime/cuda/context.h"

#include <fmt/format.h>

#include <utility>

#include "ir/error.h"
#include "runtime/cuda/api.h"

namespace brickc::cuda {

Context::Context(int ordinal) {
  const DriverApi& api = driver();
  const Probe& p = probe();
  if (ordinal < 0 || static_cast<size_t>(ordinal) >= p.devices.size())
    fail("CUDA device {} does not exist: the driver reports {} device(s)", ordinal,
         p.devices.size());
  info_ = p.devices[static_cast<size_t>(ordinal)];
  CUdevice d;
  check(api.cuDeviceGet(&d, ordinal), fmt::format("cuDeviceGet({})", ordinal));
  CUcontext ctx = nullptr;
  check(api.cuDevicePrimaryCtxRetain(&ctx, d),
        fmt::format("cuDevicePrimaryCtxRetain for device {} ({})", ordinal, info_.name));
  device_ = d;
  ctx_ = ctx;
  make_current();
}

Context::~Context() { release(); }

Context::Context(Context&& o) noexcept
    : info_(std::move(o.info_)),
      device_(std::exchange(o.device_, -1)),
      ctx_(std::exchange(o.ctx_, nullptr)) {}

Context& Context::operator=(Context&& o) noexcept {
  if (this != &o) {
    release();
    info_ = std::move(o.info_);
    device_ = std::exchange(o.device_, -1);
    ctx_ = std::exchange(o.ctx_, nullptr);
  }
  return *this;
}

void Context::release() noexcept {
  if (!ctx_) return;
  // Errors here (e.g. a context already dead from a kernel fault) have nobody to go to.
  driver().cuDevicePrimaryCtxRelease(device_);
  ctx_ = nullptr;
}

void Context::make_current() const {
  check(driver().cuCtxSetCurrent(ctx_), fmt::format("cuCtxSetCurrent ({})", info_.name));
}

MemInfo Context::mem_info() const {
  MemInfo m;
  check(driver().cuMemGetInfo(&m.free, &m.total), "cuMemGetInfo");
  return m;
}

std::string Context::arch() const { return fmt::format("sm_{}{}", info_.cc_major, info_.cc_minor); }

void Context::synchronize(std::string_view what) const {
  if (CUresult r = driver().cuCtxSynchronize(); r != CUDA_SUCCESS)
    fail("CUDA error while {}: {}", what, describe(r));
}

std::string device_tag(const Context& c) {
  return fmt::format("{}|{}|{}", c.info().driver_version, c.info().name, c.arch());
}

}  // namespace brickc::cuda
