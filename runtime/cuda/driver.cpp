#include "runtime/cuda/driver.h"

#include <fmt/format.h>

#include "codegen/ptx/nvrtc.h"
#include "ir/error.h"
#include "runtime/cuda/api.h"

namespace brickc::cuda {
namespace {

void probe_driver(Probe& p) {
  const DriverApi* api = load_driver_api(&p.driver_error, &p.driver_library);
  if (!api) return;
  if (CUresult r = api->cuInit(0); r != CUDA_SUCCESS) {
    p.driver_error = fmt::format("cuInit failed: {}", describe(r));
    return;
  }
  api->cuDriverGetVersion(&p.driver_version);
  int n = 0;
  if (CUresult r = api->cuDeviceGetCount(&n); r != CUDA_SUCCESS) {
    p.driver_error = fmt::format("cuDeviceGetCount failed: {}", describe(r));
    return;
  }
  p.driver_loaded = true;
  for (int i = 0; i < n; ++i) {
    CUdevice d;
    if (api->cuDeviceGet(&d, i) != CUDA_SUCCESS) continue;
    DeviceInfo info;
    info.ordinal = i;
    info.driver_version = p.driver_version;
    char name[256] = {};
    api->cuDeviceGetName(name, sizeof name - 1, d);
    info.name = name;
    api->cuDeviceTotalMem(&info.total_mem, d);
    auto attr = [&](int& out, CUdevice_attribute a) { api->cuDeviceGetAttribute(&out, a, d); };
    attr(info.cc_major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
    attr(info.cc_minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
    attr(info.sm_count, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
    attr(info.max_smem_per_block_optin, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
    attr(info.smem_per_sm, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR);
    attr(info.clock_khz, CU_DEVICE_ATTRIBUTE_CLOCK_RATE);
    attr(info.mem_clock_khz, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE);
    attr(info.mem_bus_width, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH);
    int l2 = 0;
    attr(l2, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE);
    info.l2_bytes = static_cast<size_t>(l2);
    p.devices.push_back(std::move(info));
  }
}

void probe_nvrtc(Probe& p) {
  try {
    ptx::NvrtcVersion v = ptx::nvrtc_version();
    p.nvrtc_major = v.major;
    p.nvrtc_minor = v.minor;
    p.nvrtc_library = v.library;
    p.nvrtc_loaded = true;
  } catch (const Error& e) {
    p.nvrtc_error = e.what();
  }
}

}  // namespace

std::string Probe::why_unusable() const {
  if (!driver_loaded) return driver_error;
  if (devices.empty()) return "the NVIDIA driver reports no CUDA devices";
  if (!nvrtc_loaded) return nvrtc_error;
  return {};
}

const Probe& probe() {
  static const Probe p = [] {
    Probe r;
    probe_driver(r);
    probe_nvrtc(r);
    return r;
  }();
  return p;
}

}  // namespace brickc::cuda
