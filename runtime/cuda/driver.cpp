#include "runtime/cuda/driver.h"

#include <cuda.h>
#include <dlfcn.h>
#include <fmt/format.h>

namespace brickc::cuda {
namespace {

// The subset of entry points the probe needs; the runtime proper (issue 5) extends it.
struct DriverApi {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDriverGetVersion)(int*);
  CUresult (*cuDeviceGetCount)(int*);
  CUresult (*cuDeviceGet)(CUdevice*, int);
  CUresult (*cuDeviceGetName)(char*, int, CUdevice);
  CUresult (*cuDeviceTotalMem)(size_t*, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int*, CUdevice_attribute, CUdevice);
  CUresult (*cuGetErrorName)(CUresult, const char**);
};

template <typename F>
bool resolve(void* lib, const char* sym, F& fn, std::string& err) {
  fn = reinterpret_cast<F>(dlsym(lib, sym));
  if (!fn) err = fmt::format("symbol {} missing from libcuda.so.1", sym);
  return fn != nullptr;
}

std::string result_name(const DriverApi& api, CUresult r) {
  const char* s = nullptr;
  if (api.cuGetErrorName && api.cuGetErrorName(r, &s) == CUDA_SUCCESS && s) return s;
  return fmt::format("CUresult {}", static_cast<int>(r));
}

void probe_driver(Probe& p) {
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* e = dlerror();
    p.driver_error = fmt::format("no NVIDIA driver: dlopen(libcuda.so.1) failed: {}", e ? e : "?");
    return;
  }
  DriverApi api{};
  std::string& err = p.driver_error;
  if (!resolve(lib, "cuInit", api.cuInit, err) ||
      !resolve(lib, "cuDriverGetVersion", api.cuDriverGetVersion, err) ||
      !resolve(lib, "cuDeviceGetCount", api.cuDeviceGetCount, err) ||
      !resolve(lib, "cuDeviceGet", api.cuDeviceGet, err) ||
      !resolve(lib, "cuDeviceGetName", api.cuDeviceGetName, err) ||
      !resolve(lib, "cuDeviceTotalMem_v2", api.cuDeviceTotalMem, err) ||
      !resolve(lib, "cuDeviceGetAttribute", api.cuDeviceGetAttribute, err) ||
      !resolve(lib, "cuGetErrorName", api.cuGetErrorName, err))
    return;
  if (CUresult r = api.cuInit(0); r != CUDA_SUCCESS) {
    err = fmt::format("cuInit failed: {}", result_name(api, r));
    return;
  }
  api.cuDriverGetVersion(&p.driver_version);
  int n = 0;
  if (CUresult r = api.cuDeviceGetCount(&n); r != CUDA_SUCCESS) {
    err = fmt::format("cuDeviceGetCount failed: {}", result_name(api, r));
    return;
  }
  p.driver_loaded = true;
  for (int i = 0; i < n; ++i) {
    CUdevice d;
    if (api.cuDeviceGet(&d, i) != CUDA_SUCCESS) continue;
    DeviceInfo info;
    info.ordinal = i;
    char name[256] = {};
    api.cuDeviceGetName(name, sizeof name - 1, d);
    info.name = name;
    api.cuDeviceTotalMem(&info.total_mem, d);
    api.cuDeviceGetAttribute(&info.cc_major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d);
    api.cuDeviceGetAttribute(&info.cc_minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d);
    api.cuDeviceGetAttribute(&info.sm_count, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, d);
    p.devices.push_back(std::move(info));
  }
}

void probe_nvrtc(Probe& p) {
  // The toolkit we build with ships libnvrtc.so.13; older toolkits have .so.12.
  void* lib = nullptr;
  std::string tried;
  for (const char* n : {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"}) {
    if ((lib = dlopen(n, RTLD_NOW | RTLD_LOCAL))) break;
    const char* e = dlerror();
    tried += fmt::format("{}{}", tried.empty() ? "" : "; ", e ? e : n);
  }
  if (!lib) {
    p.nvrtc_error = fmt::format("NVRTC not found ({})", tried);
    return;
  }
  using VersionFn = int (*)(int*, int*);
  auto version = reinterpret_cast<VersionFn>(dlsym(lib, "nvrtcVersion"));
  if (!version || version(&p.nvrtc_major, &p.nvrtc_minor) != 0) {
    p.nvrtc_error = "nvrtcVersion missing or failed";
    return;
  }
  p.nvrtc_loaded = true;
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
