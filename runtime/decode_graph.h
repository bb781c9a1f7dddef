// The decode step every backend runs: the file's Qwen2 graph imported for a context
// length and optimized by a pass list (the default pipeline unless one is given).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "frontend/gguf/reader.h"
#include "ir/graph.h"

namespace brickc::runtime {

// `device_profile` names the roofline the budget pass assigns budgets from (passes/
// device_profile.h). Errors: n_ctx outside 1..context_length, an unknown pass or profile.
ir::Graph decode_graph(const gguf::File& file, int64_t n_ctx,
                       const std::optional<std::string>& passes,
                       const std::string& device_profile);

}  // namespace brickc::runtime
