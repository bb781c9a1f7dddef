// Qwen2 hyperparameters (the `qwen2.*` GGUF keys) and the binding of a file's tensors to
// their roles, with every shape and type checked against the config.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "frontend/gguf/reader.h"

namespace brickc::qwen2 {

struct Config {
  uint32_t n_layer = 0;
  uint32_t n_embd = 0;
  uint32_t n_ff = 0;
  uint32_t n_head = 0;
  uint32_t n_head_kv = 0;
  uint32_t head_dim = 0;      // key_length; qwen2 requires value_length == key_length
  uint32_t n_vocab = 0;       // length of tokenizer.ggml.tokens (or token_embd rows)
  uint32_t n_ctx_train = 0;
  float rope_theta = 1e6f;
  float rms_eps = 1e-6f;
  bool tied = false;          // no output.weight: the LM head is token_embd

  uint32_t q_dim() const { return n_head * head_dim; }
  uint32_t kv_dim() const { return n_head_kv * head_dim; }
};

// Reads and validates the config (architecture must be "qwen2"; required keys present;
// head counts divide; n_vocab consistent with token_embd).
Config read_config(const gguf::File& f);

struct LayerTensors {
  const gguf::TensorInfo *attn_norm, *wq, *bq, *wk, *bk, *wv, *bv, *wo;
  const gguf::TensorInfo *ffn_norm, *w_gate, *w_up, *w_down;
};

struct Tensors {
  const gguf::TensorInfo* token_embd;
  const gguf::TensorInfo* output_norm;
  const gguf::TensorInfo* output;  // == token_embd when tied
  std::vector<LayerTensors> layers;
};

// Finds every tensor by its llama.cpp name and checks shape (ggml ne order) and that its
// type is dequantizable: "unsupported tensor type X in tensor Y" otherwise.
Tensors bind_tensors(const gguf::File& f, const Config& c);

}  // namespace brickc::qwen2
