// `brickc devices`: what the GPU side of this machine offers, or why it offers nothing, and
// which kernels the CPU's int8 engine runs here.
#include <fmt/core.h>

#include <thread>

#include "runtime/cpu/cores.h"
#include "runtime/cpu/simd/qdot.h"
#include "runtime/cuda/driver.h"
#include "tools/brickc/commands.h"

namespace brickc::tools {

void add_devices_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "devices", "List CUDA devices, or say why CUDA is unavailable; the CPU's kernels");
  cmd->callback([] {
    const auto& p = cuda::probe();
    if (p.driver_loaded)
      fmt::print("CUDA driver {}.{} ({})\n", p.driver_version / 1000, p.driver_version % 1000 / 10,
                 p.driver_library);
    else
      fmt::print("CUDA driver: unavailable ({})\n", p.driver_error);
    if (p.nvrtc_loaded)
      fmt::print("NVRTC {}.{} ({})\n", p.nvrtc_major, p.nvrtc_minor, p.nvrtc_library);
    else
      fmt::print("NVRTC: unavailable ({})\n", p.nvrtc_error);
    for (const auto& d : p.devices)
      fmt::print("cuda:{}  {}  sm_{}{}  {} SMs  {:.1f} GiB\n", d.ordinal, d.name, d.cc_major,
                 d.cc_minor, d.sm_count, d.total_mem / double(1 << 30));
    fmt::print("cpu: {} hardware threads, {} physical cores (the default -t), int8 kernels {}\n",
               std::thread::hardware_concurrency(), cpu::physical_cores(),
               cpu::simd::name(cpu::simd::best_isa()));
    fmt::print("default device: {}\n", p.usable() ? "cuda:0" : "cpu (" + p.why_unusable() + ")");
  });
}

}  // namespace brickc::tools
