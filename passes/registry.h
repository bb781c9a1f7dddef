// The passes by name, and the default pipeline `--emit=ir-opt` runs.
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "passes/pass.h"

namespace brickc::passes {

std::span<const PassInfo> registered_passes();
const PassInfo* find_pass(std::string_view name);
std::string pass_names();  // "canonicalize, merge-qkv, ..."

// Fusions first (each exposes the next: qkv before the rope fusion that looks for it),
// then the int8 activations the fused bricks read, cleanup, and the analyses last, so
// that memory and budgets describe the final graph.
const std::vector<std::string_view>& default_pipeline();

// "a,b,c" → the passes, in order; an unknown name fails listing the valid ones.
std::vector<const PassInfo*> parse_pipeline(std::string_view list);

}  // namespace brickc::passes
