// The CUDA Driver API and NVRTC, loaded with dlopen on first use so that brickc starts on
// machines without a GPU or driver and can say precisely why CUDA is unavailable.
// Only this unit and runtime/cuda see cuda.h; everything else uses these plain types.
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
};

// What a user needs to know about the GPU side of this machine. Probing never throws.
struct Probe {
  bool driver_loaded = false;  // libcuda.so.1 found and cuInit succeeded
  bool nvrtc_loaded = false;
  std::string driver_error;    // why not, when !driver_loaded
  std::string nvrtc_error;
  int driver_version = 0;      // e.g. 13000
  int nvrtc_major = 0, nvrtc_minor = 0;
  std::vector<DeviceInfo> devices;

  bool usable() const { return driver_loaded && nvrtc_loaded && !devices.empty(); }
  std::string why_unusable() const;  // one line; empty when usable
};

const Probe& probe();  // cached after the first call

}  // namespace brickc::cuda
