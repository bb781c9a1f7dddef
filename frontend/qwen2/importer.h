// GGUF Qwen2 model → Brick IR of one decode step (embedding, the layers, final norm, LM
// head, argmax), unfused, with every weight bound to its GGUF tensor by name. Reads only
// the tensor infos, never the weight data; fusion is the passes' job.
#pragma once
#include <cstdint>

#include "frontend/gguf/reader.h"
#include "ir/graph.h"

namespace brickc::qwen2 {

// How the KV cache holds K and V (llama.cpp's --cache-type-k/v): f16, or q8_0 (blocks of 32
// values of a head row, half the bytes a long context's attention reads).
struct CacheTypes {
  DType k = DType::F16, v = DType::F16;
  bool operator==(const CacheTypes&) const = default;
};

struct ImportOptions {
  // KV cache length; 0 takes min(context_length, 4096), the default context of `run`.
  int64_t max_ctx = 0;
  // The step whose costs the graph reports reads kv_len cached positions (Graph::kv_len);
  // 0 takes n_tokens (a prompt's first chunk; the one position of a decode step).
  int64_t kv_len = 0;
  // Tokens per step (Graph::n_tokens): 1 for decode, the micro-batch for prefill.
  int64_t n_tokens = 1;
  // Logits for every token of the step (dumped logits, perplexity) instead of the last
  // token's alone; a graph with them has no argmax.
  bool all_logits = false;
  // Sequences the step's tokens may belong to (a server's batch): above 1, each cache has
  // a sequence dimension ([head_dim, n_kv_heads, max_ctx, n_seq]) and %seq : i32[T] says
  // each token's sequence; kv_append and attention take it.
  int64_t n_seq = 1;
  CacheTypes cache;
};

// Validates the config and every tensor (read_config, bind_tensors), then builds the step:
//   x = embed(tok); per layer: h = rmsnorm(x); q, k, v = matvec(h) + bias; rope q and k;
//   kv_append; attention; x1 = x + matvec(att, wo); h2 = rmsnorm(x1);
//   x2 = x1 + matvec(swiglu(matvec(h2, wg), matvec(h2, wu)), wd);
//   logits = lm_head(rmsnorm(x), output or token_embd); next = argmax(logits).
// Outputs: %next, then %logits (only %logits with all_logits). With n_tokens = T every
// activation is [n, T] and %tok, %pos are i32[T] (and %seq, with n_seq > 1). Errors name
// the file and tensor.
ir::Graph import_qwen2(const gguf::File& f, const ImportOptions& opts = {});

}  // namespace brickc::qwen2
