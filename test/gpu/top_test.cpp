// brickc top on the GPU: NVML (runtime/top/nvml) reads the card CUDA decodes on, and the
// monitor times every brick from the kernels' stamps and verifies steps against the CPU
// reference while it generates.
#include <gtest/gtest.h>

#include <chrono>

#include "runtime/cuda/model.h"
#include "runtime/top/monitor.h"
#include "runtime/top/nvml.h"
#include "test/gpu/gpu_test_util.h"

namespace brickc {
namespace {

TEST(TopNvmlGpu, ReadsTheCardCudaUses) {
  BRICKC_REQUIRE_GPU();
  const cuda::DeviceInfo& dev = cuda::probe().devices.front();
  const top::GpuReading g = top::read_gpu(0);
  ASSERT_TRUE(g.ok()) << g.error;
  EXPECT_EQ(g.name, dev.name);
  // NVML and CUDA count reserved memory differently, by well under 5 %.
  EXPECT_NEAR(static_cast<double>(g.mem_total), static_cast<double>(dev.total_mem),
              0.05 * dev.total_mem);
  EXPECT_GT(g.mem_used, 0u);
  EXPECT_LE(g.mem_used, g.mem_total);
  EXPECT_GT(g.sm_mhz, 0u);
  EXPECT_GT(g.mem_mhz, 0u);
  EXPECT_LE(g.util_gpu_pct, 100u);
  EXPECT_LE(g.util_mem_pct, 100u);
}

TEST(TopMonitorGpu, TimesAndVerifiesTheGpuBricks) {
  BRICKC_REQUIRE_GPU();
  const gguf::File& file = testing::synth_model("qwen2.5-coder-0.5b", synth::QuantMix::Q4_K_M, 2);
  cuda::ModelOptions mo;
  mo.n_ctx = 32;
  mo.trace = true;
  auto model = cuda::open_model(file, mo);
  top::MonitorOptions o;
  o.model = "0.5b";
  o.device = model->device_label();
  o.budget_profile = cuda::budget_profile(o.device);
  o.verify_every = 8;
  o.verify_threads = 4;
  o.max_samples = 40;  // 50 steps: a restart after 24 (8 prompt positions of 32)
  top::Monitor mon(*model, file, o);
  const top::Snapshot s = mon.wait_for_samples(o.max_samples, std::chrono::minutes(5));
  ASSERT_TRUE(s.error.empty()) << s.error;
  EXPECT_EQ(s.samples, 40);
  EXPECT_GE(s.restarts, 1);
  EXPECT_EQ(s.verify.steps, 40 / 7 + 1);  // 1 in 8 after warm-up, the first included
  EXPECT_GT(s.verify.checks, 0);
  EXPECT_EQ(s.verify.failures, 0) << runtime::format_verify(s.verify);
  ASSERT_TRUE(s.profile.has_value());
  EXPECT_EQ(s.profile->rows.size(), model->profiled_graph()->bricks().size());
  for (const auto& row : s.profile->rows)
    EXPECT_GE(row.us.min, 0.0) << row.kind << " %" << row.value;
  EXPECT_GT(s.profile->step_p50_us, 0.0);
}

}  // namespace
}  // namespace brickc
