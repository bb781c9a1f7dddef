// The planted wrong kernel that --verify's GPU test relies on: lowering appends it to the
// named brick's launches, for each result type (f32, q8_1, f16 cache, argmax key), and
// NVRTC compiles it. Needs NVRTC, not a GPU; the GPU side is test/gpu/verify_test.cpp.
#include <gtest/gtest.h>

#include <string>

#include "codegen/ptx/lower.h"
#include "codegen/ptx/nvrtc.h"
#include "ir/error.h"
#include "runtime/decode_graph.h"
#include "test/unit/synth_model.h"

namespace brickc::ptx {
namespace {

TEST(PlantFault, LowersAfterTheBrickAndCompiles) {
  try {
    nvrtc_version();
  } catch (const Error& e) {
    GTEST_SKIP() << "NVRTC unavailable: " << e.what();
  }
  const gguf::File& file = testing::synth_model("test-tiny", synth::QuantMix::Q4_K_M);
  const std::string unfused = "canonicalize,merge-qkv,quantize-activations,plan-memory,assign-budgets";
  struct Case {
    std::string spec;
    std::optional<std::string> passes;
    int elem;  // kernels/plant_fault.cuh: FaultElem
  };
  for (const Case& c : {Case{"matvec_add@1", {}, 0}, Case{"kv_append@0", unfused, 1},
                        Case{"rmsnorm_gate_up_swiglu@0", {}, 2}, Case{"argmax", {}, 3}}) {
    SCOPED_TRACE(c.spec);
    const ir::Graph g = runtime::decode_graph(file, 32, c.passes, "h100-sxm");
    LowerOptions o;
    o.plant_fault = g.find_brick(c.spec);
    const KernelPlan plan = lower(g, o);
    const std::string entry = "plant_fault_" + std::to_string(c.elem);
    // The wrong kernel is the brick's last launch, so its result is what the brick leaves.
    size_t last = 0;
    for (size_t i = 0; i < plan.launches.size(); ++i)
      if (plan.launches[i].brick == *o.plant_fault) last = i;
    EXPECT_EQ(plan.kernels[plan.launches[last].kernel].name, entry);
    CompileOptions co;
    co.want_cubin = false;
    const Compiled out = compile(plan.source, "plant_fault.cu", co);
    EXPECT_NE(out.ptx.find(".entry " + entry), std::string::npos);
  }
}

}  // namespace
}  // namespace brickc::ptx
