// What a pass is: a named rewrite or analysis of a Brick IR graph, with the options that
// analysis passes read (the device profile for budgets). Passes live one per file.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "ir/graph.h"

namespace brickc::passes {

struct PassOptions {
  std::string device = "h100-sxm";       // device profile for assign-budgets
  std::optional<double> bandwidth_gbs;   // overrides the profile's bandwidth (GB/s)
};

using PassFn = void (*)(ir::Graph&, const PassOptions&);

struct PassInfo {
  std::string_view name;     // the --passes name
  std::string_view summary;  // one line for --help and error messages
  PassFn run;
};

// Each pass's entry point (one file each); registry.cpp lists them by name.
void canonicalize(ir::Graph& g, const PassOptions&);
void merge_qkv(ir::Graph& g, const PassOptions&);
void fuse_gate_up_swiglu(ir::Graph& g, const PassOptions&);
void fuse_rope_kv_append(ir::Graph& g, const PassOptions&);
void fuse_matvec_add(ir::Graph& g, const PassOptions&);
void fuse_rmsnorm_matvec(ir::Graph& g, const PassOptions&);
void quantize_activations(ir::Graph& g, const PassOptions&);
void plan_memory_pass(ir::Graph& g, const PassOptions&);
void assign_budgets(ir::Graph& g, const PassOptions&);

}  // namespace brickc::passes
