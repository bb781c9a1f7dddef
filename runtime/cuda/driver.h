// What this machine offers for CUDA: the driver (runtime/cuda/api.h) and NVRTC
// (codegen/ptx/nvrtc.h), both loaded with dlopen on first use, so that brickc starts on
// machines without a GPU or driver and can say precisely why CUDA is unavailable.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace brickc::cuda {

struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  size_t total_mem = 0;
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  size_t l2_bytes = 0;
  int max_smem_per_block_optin = 0;  // bytes a kernel may opt in to (cuFuncSetAttribute)
  int smem_per_sm = 0;               // bytes of shared memory an SM has for its blocks
  int clock_khz = 0, mem_clock_khz = 0;
  int mem_bus_width = 0;  // bits
  int driver_version = 0;  // e.g. 13000, as in Probe
};

// What a user needs to know about the GPU side of this machine. Probing never throws.
struct Probe {
  bool driver_loaded = false;  // libcuda.so.1 found and cuInit succeeded
  bool nvrtc_loaded = false;
  std::string driver_error;    // why not, when !driver_loaded
  std::string nvrtc_error;
  std::string driver_library, nvrtc_library;  // where they were found
  int driver_version = 0;      // e.g. 13000
  int nvrtc_major = 0, nvrtc_minor = 0;
  std::vector<DeviceInfo> devices;

  bool usable() const { return driver_loaded && nvrtc_loaded && !devices.empty(); }
  std::string why_unusable() const;  // one line; empty when usable
};

const Probe& probe();  // cached after the first call

}  // namespace brickc::cuda
