// Named device profiles for the roofline budget model: the bandwidth and compute rate a
// brick can count on, and the fixed cost of a brick boundary. Facts and their sources are
// in device_profile.cpp; numbers the runtime has not measured yet are marked as assumed.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace brickc::passes {

struct DeviceProfile {
  std::string_view name;
  double bandwidth_gbs;            // memory bandwidth budgets use (GB/s, 1e9 B/s)
  double datasheet_gbs;            // for reference in the printout
  double peak_gflops;              // FP32 non-tensor rate: matvec at batch 1 never nears it
  // Dense f16 matrix rate (tensor cores) of T-token steps' GEMMs and attention; the FP32
  // rate where the device has no matrix units.
  double tensor_gflops;
  double boundary_us;              // per brick: sync/launch cost between bricks
  std::string_view source;         // where the numbers come from, one line
  // No datasheet or measurement backs the bandwidth (the CPU's: machines differ); the
  // user is told so and pointed at --bandwidth-gbs.
  bool assumed = false;
};

const std::vector<DeviceProfile>& device_profiles();
// The profile called `name`, with bandwidth replaced by `bandwidth_gbs` when given.
// Fails listing the known names.
DeviceProfile device_profile(std::string_view name, std::optional<double> bandwidth_gbs = {});
std::string device_profile_names();  // "h100-sxm, h200, rtx4090, cpu"

}  // namespace brickc::passes
