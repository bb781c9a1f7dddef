// What `brickc bench` measured and on what, and its two printed forms: the llama-bench-like
// table for people and the JSON document (schema brickc-bench/1, README.md) for
// bench/results. Not the measuring (runtime/bench/protocol.h).
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/bench/brick_profile.h"
#include "runtime/bench/llama_bench.h"
#include "runtime/bench/protocol.h"
#include "runtime/cuda/driver.h"
#include "runtime/verify.h"

namespace brickc::tools {

struct BenchReport {
  struct Model {
    std::string path, name, arch;
    uint64_t file_bytes = 0;
    uint32_t n_layer = 0, n_embd = 0;
    int64_t n_params = 0;
    std::map<std::string, int> tensor_types;  // ggml type name -> tensor count
  } model;
  struct Device {
    std::string kind;   // cpu | cuda
    std::string label;  // the backend's label
    int threads = 0;    // cpu
    std::string cpu_name;
    std::optional<cuda::DeviceInfo> gpu;  // cuda
    int driver_version = 0, nvrtc_major = 0, nvrtc_minor = 0;
  } device;
  int64_t n_ctx = 0;
  int64_t n_ubatch = 0;  // the prefill micro-batch (-ub)
  bench::BenchResult result;
  struct Memory {
    std::optional<uint64_t> device_bytes;  // GPU memory the model holds (cuda)
    uint64_t kv_cache_bytes = 0;
    std::string kv_cache_type;  // Backend::kv_k, kv_v: f16, q8_0, f32, or "k q8_0, v f16"
    uint64_t host_peak_rss_bytes = 0;
  } memory;
  // The decode roofline on the device profile the budgets came from: bytes one step moves
  // (the bricks' ir::cost at position 0: weights and activations) over its bandwidth.
  struct Roofline {
    std::string profile;
    double bandwidth_gbs = 0, datasheet_gbs = 0;
    // What datasheet_gbs is: "datasheet", "given" (--bandwidth-gbs, which then replaces
    // both figures) or "assumed" (a profile without one, the CPU's).
    std::string reference;
    uint64_t decode_bytes_per_token = 0;
  } roofline;
  std::optional<bench::ProfileReport> profile;  // --profile
  std::optional<runtime::VerifyStats> verify;   // --verify
  std::optional<bench::LlamaBenchResult> llama;
  // --stat-check: the reasons the measurement is unstable (empty: stable); unset: not asked.
  std::optional<std::vector<std::string>> stat_check;
  std::string commit, timestamp;  // brickc's commit stamp, ISO-8601 UTC
};

// The table and the lines under it, as printed on stdout.
std::string format_report(const BenchReport& r);
nlohmann::ordered_json report_json(const BenchReport& r);

}  // namespace brickc::tools
