#include "runtime/top/nvml.h"

#include <dlfcn.h>
#include <fmt/format.h>

namespace brickc::top {
namespace {

// The few NVML declarations used, from NVML's public API reference, so that building needs
// no nvml.h (the CUDA toolkit does not always ship it).
using nvmlReturn_t = int;
constexpr nvmlReturn_t kNvmlSuccess = 0;
using nvmlDevice_t = struct nvmlDevice_st*;
struct nvmlUtilization_t {
  unsigned gpu, memory;
};
struct nvmlMemory_t {
  unsigned long long total, free, used;
};
constexpr int kClockSm = 1;         // NVML_CLOCK_SM
constexpr int kClockMem = 2;        // NVML_CLOCK_MEM
constexpr int kTemperatureGpu = 0;  // NVML_TEMPERATURE_GPU
constexpr unsigned kNameSize = 96;  // NVML_DEVICE_NAME_V2_BUFFER_SIZE

struct Api {
  nvmlReturn_t (*init)();
  nvmlReturn_t (*handle_by_index)(unsigned, nvmlDevice_t*);
  nvmlReturn_t (*utilization)(nvmlDevice_t, nvmlUtilization_t*);
  nvmlReturn_t (*memory)(nvmlDevice_t, nvmlMemory_t*);
  nvmlReturn_t (*clock)(nvmlDevice_t, int, unsigned*);
  nvmlReturn_t (*temperature)(nvmlDevice_t, int, unsigned*);
  nvmlReturn_t (*power_mw)(nvmlDevice_t, unsigned*);
  nvmlReturn_t (*name)(nvmlDevice_t, char*, unsigned);
  const char* (*error_string)(nvmlReturn_t);
};

struct Loaded {
  Api api{};
  std::string error;  // empty when NVML is loaded and initialized
};

template <typename Fn>
void resolve(void* lib, const char* symbol, Fn& fn, std::string& missing) {
  fn = reinterpret_cast<Fn>(dlsym(lib, symbol));
  if (!fn) missing += fmt::format("{}{}", missing.empty() ? "" : ", ", symbol);
}

Loaded load() {
  Loaded l;
  // Kept loaded for the life of the process, like libcuda: NVML is never shut down.
  void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* e = dlerror();
    l.error = fmt::format("NVML unavailable: dlopen(libnvidia-ml.so.1) failed: {}", e ? e : "?");
    return l;
  }
  Api& a = l.api;
  std::string missing;
  resolve(lib, "nvmlInit_v2", a.init, missing);
  resolve(lib, "nvmlDeviceGetHandleByIndex_v2", a.handle_by_index, missing);
  resolve(lib, "nvmlDeviceGetUtilizationRates", a.utilization, missing);
  resolve(lib, "nvmlDeviceGetMemoryInfo", a.memory, missing);
  resolve(lib, "nvmlDeviceGetClockInfo", a.clock, missing);
  resolve(lib, "nvmlDeviceGetTemperature", a.temperature, missing);
  resolve(lib, "nvmlDeviceGetPowerUsage", a.power_mw, missing);
  resolve(lib, "nvmlDeviceGetName", a.name, missing);
  resolve(lib, "nvmlErrorString", a.error_string, missing);
  if (!missing.empty()) {
    l.error = fmt::format("NVML unavailable: libnvidia-ml.so.1 lacks {}", missing);
    return l;
  }
  if (const nvmlReturn_t r = a.init(); r != kNvmlSuccess)
    l.error = fmt::format("NVML unavailable: nvmlInit failed: {}", a.error_string(r));
  return l;
}

const Loaded& loaded() {
  static const Loaded l = load();
  return l;
}

}  // namespace

GpuReading read_gpu(unsigned index) {
  GpuReading g;
  g.index = index;
  const Loaded& l = loaded();
  if (!l.error.empty()) {
    g.error = l.error;
    return g;
  }
  const Api& a = l.api;
  auto failed = [&](const char* call, nvmlReturn_t r) {
    g.error = fmt::format("NVML: {} for device {} failed: {}", call, index, a.error_string(r));
    return g;
  };
  nvmlDevice_t dev = nullptr;
  if (nvmlReturn_t r = a.handle_by_index(index, &dev); r != kNvmlSuccess)
    return failed("nvmlDeviceGetHandleByIndex", r);
  char name[kNameSize] = {};
  if (nvmlReturn_t r = a.name(dev, name, kNameSize); r != kNvmlSuccess)
    return failed("nvmlDeviceGetName", r);
  g.name = name;
  nvmlUtilization_t u{};
  if (nvmlReturn_t r = a.utilization(dev, &u); r != kNvmlSuccess)
    return failed("nvmlDeviceGetUtilizationRates", r);
  g.util_gpu_pct = u.gpu;
  g.util_mem_pct = u.memory;
  nvmlMemory_t m{};
  if (nvmlReturn_t r = a.memory(dev, &m); r != kNvmlSuccess)
    return failed("nvmlDeviceGetMemoryInfo", r);
  g.mem_used = m.used;
  g.mem_total = m.total;
  if (nvmlReturn_t r = a.clock(dev, kClockSm, &g.sm_mhz); r != kNvmlSuccess)
    return failed("nvmlDeviceGetClockInfo(SM)", r);
  if (nvmlReturn_t r = a.clock(dev, kClockMem, &g.mem_mhz); r != kNvmlSuccess)
    return failed("nvmlDeviceGetClockInfo(MEM)", r);
  if (unsigned t = 0; a.temperature(dev, kTemperatureGpu, &t) == kNvmlSuccess) g.temperature_c = t;
  if (unsigned mw = 0; a.power_mw(dev, &mw) == kNvmlSuccess) g.power_w = mw / 1000.0;
  return g;
}

}  // namespace brickc::top
