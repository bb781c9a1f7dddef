// GPU state for `brickc top`'s g panel: utilization, memory, clocks, temperature and power
// from NVML, loaded with dlopen on first use (as the CUDA driver is, runtime/cuda/api.h),
// so that brickc runs where there is no NVIDIA driver and says why there is no reading.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace brickc::top {

struct GpuReading {
  std::string error;  // why there is no reading (no library, no GPU, a failed call)
  unsigned index = 0;
  std::string name;
  unsigned util_gpu_pct = 0;             // time a kernel ran, over NVML's last sample period
  unsigned util_mem_pct = 0;             // time device memory was read or written
  uint64_t mem_used = 0, mem_total = 0;  // bytes
  unsigned sm_mhz = 0, mem_mhz = 0;
  // Not every board reports these; absent then rather than an error.
  std::optional<unsigned> temperature_c;
  std::optional<double> power_w;

  bool ok() const { return error.empty(); }
};

// NVML's device `index`. NVML numbers devices by PCI bus id, as CUDA does unless
// CUDA_DEVICE_ORDER or CUDA_VISIBLE_DEVICES reorder them; the name tells which card it is.
// Never throws.
GpuReading read_gpu(unsigned index = 0);

}  // namespace brickc::top
