// The step every backend runs: the file's Qwen2 graph imported for a context length and a
// token count (one for decode, a micro-batch for prefill) and optimized by a pass list
// (the default pipeline unless one is given).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "frontend/gguf/reader.h"
#include "frontend/qwen2/importer.h"
#include "ir/graph.h"

namespace brickc::runtime {

// The token dimension of a step: decode evaluates one token and needs the last logits;
// prefill evaluates up to n_tokens (the micro-batch), perplexity wants every row's logits.
struct StepShape {
  int64_t n_tokens = 1;
  bool all_logits = false;
  int64_t n_seq = 1;  // sequences the tokens may belong to (a server's batch)
};

// How the KV cache holds K and V: the importer's choice, which every backend passes on.
using CacheTypes = qwen2::CacheTypes;

// `device_profile` names the roofline the budget pass assigns budgets from (passes/
// device_profile.h). Errors: n_ctx outside 1..context_length, n_tokens outside 1..n_ctx,
// an unknown pass or profile.
ir::Graph decode_graph(const gguf::File& file, int64_t n_ctx,
                       const std::optional<std::string>& passes,
                       const std::string& device_profile, StepShape shape = {},
                       CacheTypes cache = {});

}  // namespace brickc::runtime
