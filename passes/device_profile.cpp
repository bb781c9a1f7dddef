#include "passes/device_profile.h"

#include <fmt/format.h>

#include <cmath>

#include "ir/error.h"

namespace brickc::passes {

// Bandwidth: budgets are claims the runtime checks, so they use what a streaming kernel
// reaches, not the datasheet. On the H100 SXM a 16-byte-load read of 128-512 MB ran at
// 2.98-3.09 TB/s (shared/reference/anchors.md), so 3.0 TB/s (90 % of 3.35). The H200 and
// RTX 4090 are not measured yet: the same 90 % of their datasheet rate is assumed.
// Boundary: an empty kernel costs 0.9 µs in a CUDA graph and a counter barrier 1.02 µs on
// the H100 (anchors.md), so each brick pays 1.0 µs; assumed the same on the other GPUs.
// CPU: 20 GB/s is a two-channel DDR4/DDR5 desktop's practical read rate (the 2-core CI
// machine's llama.cpp decode implies ≥ 12.6 GB/s); pass --bandwidth-gbs with a measured
// figure. 100 GFLOP/s: 2 cores × 3 GHz × 16 FP32 FMA lanes; 2 µs: a thread-pool barrier.
// Matrix rate: an 8192³ bf16 product through cuBLAS ran at 769-798 TFLOP/s on an H200 of
// this workplace (the H100's tensor cores are the same), so 790 for both; the RTX 4090's
// datasheet gives 165 TFLOP/s dense f16 with f32 accumulation.
const std::vector<DeviceProfile>& device_profiles() {
  static const std::vector<DeviceProfile> kProfiles = {
      {"h100-sxm", 3000, 3350, 66900, 790000, 1.0,
       "measured streaming 2.98-3.09 TB/s (anchors.md)"},
      {"h200", 4320, 4800, 66900, 790000, 1.0, "assumed 90% of the 4.8 TB/s datasheet"},
      {"rtx4090", 907, 1008, 82600, 165000, 1.0, "assumed 90% of the 1.008 TB/s datasheet"},
      {"cpu", 20, 20, 100, 100, 2.0, "default; pass --bandwidth-gbs with a measured figure", true},
  };
  return kProfiles;
}

std::string device_profile_names() {
  std::string s;
  for (const auto& p : device_profiles()) s += fmt::format("{}{}", s.empty() ? "" : ", ", p.name);
  return s;
}

DeviceProfile device_profile(std::string_view name, std::optional<double> bandwidth_gbs) {
  for (auto p : device_profiles()) {
    if (p.name != name) continue;
    if (bandwidth_gbs) {
      if (!(*bandwidth_gbs > 0) || !std::isfinite(*bandwidth_gbs))
        fail("bandwidth must be a positive number of GB/s, found {}", *bandwidth_gbs);
      p.bandwidth_gbs = *bandwidth_gbs;
      p.source = "bandwidth given on the command line";
      p.assumed = false;
    }
    return p;
  }
  fail("unknown device profile '{}' (known: {})", name, device_profile_names());
}

}  // namespace brickc::passes
