// The GPU's KV cache layout (codegen/ptx/lower.h: gpu_cache_position_bytes, gpu_value_bytes;
// kernels/kv_cache.cuh: KvCache) against byte counts worked out by hand: a position is its
// n_kv_heads x head_dim values, f16 (2 bytes each) or q8_0 (1 byte each, then a 2-byte
// scale per 32 values, padded to 16 bytes). The executor's conversions are checked on the
// GPU (test/gpu: every q8_0 test reads and writes caches through them).
#include <gtest/gtest.h>

#include "codegen/ptx/lower.h"
#include "ir/error.h"
#include "runtime/decode_graph.h"
#include "test/unit/synth_model.h"

namespace brickc::ptx {
namespace {

TEST(GpuCacheLayout, PositionBytesOfEachModelsHeads) {
  // 0.5B: 2 KV heads of 64 (128 values: 128 + 8 = 136, padded to 144); 1.5B and 3B: 2 of
  // 128 (256 + 16); 7B: 4 of 128 (512 + 32); 14B and 32B: 8 of 128 (1,024 + 64).
  EXPECT_EQ(gpu_cache_position_bytes(DType::Q8_0, 128), 144u);
  EXPECT_EQ(gpu_cache_position_bytes(DType::Q8_0, 256), 272u);
  EXPECT_EQ(gpu_cache_position_bytes(DType::Q8_0, 512), 544u);
  EXPECT_EQ(gpu_cache_position_bytes(DType::Q8_0, 1024), 1088u);
  EXPECT_EQ(gpu_cache_position_bytes(DType::F16, 128), 256u);
  EXPECT_EQ(gpu_cache_position_bytes(DType::F16, 512), 1024u);
  EXPECT_THROW(gpu_cache_position_bytes(DType::F32, 128), Error);
}

// Each cache state, and the append's result that updates it (which the executor reads as
// the same buffer), takes ctx positions of its type.
TEST(GpuCacheLayout, CachesAndTheirAppendsTakeWholePositions) {
  const gguf::File& file = testing::synth_model("test-small", synth::QuantMix::Q4_K_M);
  for (const auto& [cache, bytes] : {std::pair{runtime::CacheTypes{}, uint64_t{256}},
                                    std::pair{runtime::CacheTypes{DType::Q8_0, DType::Q8_0}, uint64_t{144}}}) {
    const ir::Graph g = runtime::decode_graph(file, 96, std::nullopt, "h200", {}, cache);
    int states = 0, appended = 0;
    for (uint32_t i = 0; i < g.value_count(); ++i) {
      const ir::ValueId v{i};
      const auto& d = g.type(v).shape.dims;
      if (d.size() != 3 || d[2] != 96) continue;  // [head_dim, n_kv_heads, ctx]
      EXPECT_EQ(gpu_value_bytes(g, v), 96 * bytes) << g.value(v).name;
      (g.value(v).kind == ir::ValueKind::State ? states : appended) += 1;
    }
    EXPECT_EQ(states, 8);  // K and V of test-small's 4 layers
    EXPECT_EQ(appended, 8);
  }
}

}  // namespace
}  // namespace brickc::ptx
