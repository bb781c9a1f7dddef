// Test helper: a tiny Qwen2 GGUF with random weights, kept as editable lists of metadata and
// f32 tensors so that tests can break one thing (a shape, a type, a key) before writing it.
#pragma once
#include "test/unit/temp_files.h"
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "frontend/gguf/value.h"
#include "frontend/gguf/writer.h"
#include "frontend/quant/quant.h"
#include "ir/dtype.h"

namespace brickc::testing {

struct TinyShape {
  uint32_t n_layer = 2, n_embd = 64, n_head = 4, n_head_kv = 2, n_ff = 96, n_vocab = 40;
  uint32_t n_ctx = 256;
  float theta = 10000.0f, eps = 1e-6f;
  bool tied = true;
  // Per-role types, so that one small model covers several row formats.
  DType attn = DType::Q8_0, ffn = DType::F16, ffn_down = DType::Q4_0, embd = DType::Q8_0;
};

struct TinyTensor {
  std::string name;
  std::vector<int64_t> ne;
  DType type;
  std::vector<float> values;
};

struct TinyModel {
  std::vector<std::pair<std::string, gguf::Value>> kv;
  std::vector<TinyTensor> tensors;

  TinyTensor* find(const std::string& name) {
    for (auto& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }
  void erase_tensor(const std::string& name) {
    std::erase_if(tensors, [&](const TinyTensor& t) { return t.name == name; });
  }
  void erase_key(const std::string& key) {
    std::erase_if(kv, [&](const auto& p) { return p.first == key; });
  }
  void set_key(const std::string& key, gguf::Value v) {
    erase_key(key);
    kv.emplace_back(key, std::move(v));
  }

  // Types quant::quantize cannot produce are written as zero bytes (enough for tests of
  // the binding, which never reads them).
  void write(const std::string& path) const {
    gguf::Writer w(path);
    for (const auto& [k, v] : kv) w.add(k, v);
    for (const auto& t : tensors) w.add_tensor(t.name, t.ne, t.type);
    for (const auto& t : tensors) {
      const uint64_t rows = t.values.size() / t.ne[0];
      std::vector<uint8_t> bytes(*row_bytes(t.type, t.ne[0]) * rows);
      if (quant::can_quantize(t.type))
        quant::quantize(t.type, t.values.data(), bytes.data(),
                        static_cast<int64_t>(t.values.size()));
      w.write_tensor(t.name, bytes);
    }
    w.finish();
  }
};

inline TinyModel tiny_qwen2(const TinyShape& s, uint32_t seed) {
  std::mt19937 rng(seed);
  auto random = [&](std::vector<int64_t> ne, float scale, float mean = 0.0f) {
    int64_t n = 1;
    for (auto d : ne) n *= d;
    std::normal_distribution<float> dist(mean, scale);
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = dist(rng);
    return v;
  };
  const int64_t E = s.n_embd, hd = s.n_embd / s.n_head, Q = E, KV = s.n_head_kv * hd;
  const int64_t F = s.n_ff, V = s.n_vocab;
  TinyModel m;
  m.kv = {{"general.architecture", gguf::Value::str("qwen2")},
          {"qwen2.block_count", gguf::Value::u32(s.n_layer)},
          {"qwen2.context_length", gguf::Value::u32(s.n_ctx)},
          {"qwen2.embedding_length", gguf::Value::u32(s.n_embd)},
          {"qwen2.feed_forward_length", gguf::Value::u32(s.n_ff)},
          {"qwen2.attention.head_count", gguf::Value::u32(s.n_head)},
          {"qwen2.attention.head_count_kv", gguf::Value::u32(s.n_head_kv)},
          {"qwen2.rope.freq_base", gguf::Value::f32(s.theta)},
          {"qwen2.attention.layer_norm_rms_epsilon", gguf::Value::f32(s.eps)}};
  std::vector<std::string> tokens;
  for (uint32_t i = 0; i < s.n_vocab; ++i) tokens.push_back("t" + std::to_string(i));
  m.kv.emplace_back("tokenizer.ggml.tokens", gguf::Value::str_array(tokens));

  const float w_scale = 1.0f / std::sqrt(static_cast<float>(E));
  m.tensors.push_back({"token_embd.weight", {E, V}, s.embd, random({E, V}, 1.0f)});
  m.tensors.push_back({"output_norm.weight", {E}, DType::F32, random({E}, 0.1f, 1.0f)});
  if (!s.tied) m.tensors.push_back({"output.weight", {E, V}, s.embd, random({E, V}, w_scale)});
  for (uint32_t l = 0; l < s.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    m.tensors.push_back({p + "attn_norm.weight", {E}, DType::F32, random({E}, 0.1f, 1.0f)});
    m.tensors.push_back({p + "attn_q.weight", {E, Q}, s.attn, random({E, Q}, w_scale)});
    m.tensors.push_back({p + "attn_q.bias", {Q}, DType::F32, random({Q}, 0.1f)});
    m.tensors.push_back({p + "attn_k.weight", {E, KV}, s.attn, random({E, KV}, w_scale)});
    m.tensors.push_back({p + "attn_k.bias", {KV}, DType::F32, random({KV}, 0.1f)});
    m.tensors.push_back({p + "attn_v.weight", {E, KV}, s.attn, random({E, KV}, w_scale)});
    m.tensors.push_back({p + "attn_v.bias", {KV}, DType::F32, random({KV}, 0.1f)});
    m.tensors.push_back({p + "attn_output.weight", {Q, E}, s.attn, random({Q, E}, w_scale)});
    m.tensors.push_back({p + "ffn_norm.weight", {E}, DType::F32, random({E}, 0.1f, 1.0f)});
    m.tensors.push_back({p + "ffn_gate.weight", {E, F}, s.ffn, random({E, F}, w_scale)});
    m.tensors.push_back({p + "ffn_up.weight", {E, F}, s.ffn, random({E, F}, w_scale)});
    m.tensors.push_back({p + "ffn_down.weight",
                         {F, E},
                         s.ffn_down,
                         random({F, E}, 1.0f / std::sqrt(static_cast<float>(F)))});
  }
  return m;
}

}  // namespace brickc::testing
