// A model or KV cache larger than the free GPU memory is one clear error before any upload,
// naming what each part needs: the free memory is taken up first by a ballast buffer.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "frontend/qwen2/config.h"
#include "runtime/cuda/memory.h"
#include "runtime/cuda/model.h"
#include "test/gpu/gpu_test_util.h"

namespace brickc {
namespace {

std::string open_error(const gguf::File& file, int64_t n_ctx) {
  try {
    cuda::ModelOptions o;
    o.n_ctx = n_ctx;
    cuda::open_model(file, o);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(GpuMemoryErrors, AModelOrCacheBeyondTheFreeMemoryNamesItsParts) {
  BRICKC_REQUIRE_GPU();
  const gguf::File& file = testing::synth_model("qwen2.5-coder-0.5b", synth::QuantMix::Q4_K_M, 1);
  const qwen2::Config c = qwen2::read_config(file);
  cuda::Context& ctx = testing::gpu_context();
  constexpr int64_t kCtx = 32768;
  // The cache by the model's shape: K and V, f16, per layer, KV head and position.
  const double kv_mib = static_cast<double>(int64_t{c.n_layer} * 2 * c.kv_dim() * kCtx * 2) / (1 << 20);
  {
    const uint64_t free = ctx.mem_info().free;
    cuda::DeviceBuffer ballast(free - (uint64_t{8} << 20), "ballast");  // leaves 8 MiB
    const std::string msg = open_error(file, kCtx);
    EXPECT_NE(msg.find("out of GPU memory: " + file.path() + " needs"), std::string::npos) << msg;
    EXPECT_NE(msg.find(fmt::format("KV cache {:.1f} MiB ({} positions; a smaller -c shrinks it)",
                                   kv_mib, kCtx)),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("MiB are free on " + ctx.info().name), std::string::npos) << msg;
  }
  EXPECT_EQ(open_error(file, kCtx), "");  // with the ballast gone it fits
}

}  // namespace
}  // namespace brickc
