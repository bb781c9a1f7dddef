// Graphs for the IR unit tests: one Qwen2 decode step built with the Builder, the way the
// importer will build it (per-layer quant mix, tied embeddings), for any layer count.
#pragma once
#include <fmt/format.h>

#include "ir/builder.h"

namespace brickc::ir::testing {

// Qwen2.5-Coder-1.5B shapes (shared/reference/gguf-qwen2.md §2).
struct Qwen2Shape {
  int64_t n_embd = 1536, n_ff = 8960, n_head = 12, n_kv_head = 2, head_dim = 128;
  int64_t n_vocab = 151936, n_layer = 2, max_ctx = 4096, kv_len = 512;
  float eps = 1e-6f, theta = 1e6f;
};

inline Graph qwen2_step(const Qwen2Shape& s = {}) {
  Graph g;
  g.name = "qwen2";
  g.kv_len = s.kv_len;
  Builder b(g);
  const int64_t q_dim = s.n_head * s.head_dim, kv_dim = s.n_kv_head * s.head_dim;
  auto q = [](DType t, int64_t a, int64_t c) { return TensorType{t, Shape{{a, c}}}; };
  auto tok = b.input("tok", vec(DType::I32, 1));
  auto pos = b.input("pos", vec(DType::I32, 1));
  auto embd = b.weight("w.token_embd", q(DType::Q6_K, s.n_embd, s.n_vocab), "token_embd.weight");
  auto out_norm = b.weight("w.output_norm", f32(s.n_embd), "output_norm.weight");
  auto x = b.embed("x", tok, embd);
  for (int64_t il = 0; il < s.n_layer; ++il) {
    auto w = [&](std::string_view what, TensorType t) {
      return b.weight(fmt::format("w.{}.{}", what, il), std::move(t),
                      fmt::format("blk.{}.{}.weight", il, what));
    };
    auto n = [&](std::string_view what) { return fmt::format("{}.{}", what, il); };
    // Q4_K_M gives the first layers' attn_v and ffn_down more bits (use_more_bits).
    DType more = il == 0 ? DType::Q6_K : DType::Q4_K;
    auto attn_norm = w("attn_norm", f32(s.n_embd));
    auto wq = w("attn_q", q(DType::Q4_K, s.n_embd, q_dim));
    auto wk = w("attn_k", q(DType::Q4_K, s.n_embd, kv_dim));
    auto wv = w("attn_v", q(more, s.n_embd, kv_dim));
    auto bq = b.weight(n("b.attn_q"), f32(q_dim), fmt::format("blk.{}.attn_q.bias", il));
    auto bk = b.weight(n("b.attn_k"), f32(kv_dim), fmt::format("blk.{}.attn_k.bias", il));
    auto bv = b.weight(n("b.attn_v"), f32(kv_dim), fmt::format("blk.{}.attn_v.bias", il));
    auto wo = w("attn_output", q(DType::Q4_K, q_dim, s.n_embd));
    auto ffn_norm = w("ffn_norm", f32(s.n_embd));
    auto wg = w("ffn_gate", q(DType::Q4_K, s.n_embd, s.n_ff));
    auto wu = w("ffn_up", q(DType::Q4_K, s.n_embd, s.n_ff));
    auto wd = w("ffn_down", q(more, s.n_ff, s.n_embd));
    TensorType cache{DType::F16, Shape{{s.head_dim, s.n_kv_head, s.max_ctx}}};
    Builder::Caches c{b.state(n("kcache"), cache), b.state(n("vcache"), cache)};

    b.set_layer(static_cast<int>(il));
    auto h = b.rmsnorm(n("h"), x, attn_norm, s.eps);
    auto qkv = b.qkv({n("q"), n("k"), n("v")}, h, {wq, wk, wv}, {{bq, bk, bv}});
    auto qr = b.rope(n("qr"), qkv.q, pos, s.head_dim, s.theta);
    auto kr = b.rope(n("kr"), qkv.k, pos, s.head_dim, s.theta);
    auto c2 = b.kv_append({n("kc"), n("vc")}, kr, qkv.v, pos, c);
    auto att = b.attention(n("att"), qr, c2, pos);
    auto o = b.matvec(n("o"), att, wo);
    auto x1 = b.add(n("x1"), x, o);
    auto h2 = b.rmsnorm(n("h2"), x1, ffn_norm, s.eps);
    auto gate = b.matvec(n("gate"), h2, wg);
    auto up = b.matvec(n("up"), h2, wu);
    auto act = b.swiglu(n("act"), gate, up);
    auto down = b.matvec(n("down"), act, wd);
    x = b.add(n("x2"), x1, down);
    b.set_layer(-1);
  }
  auto hf = b.rmsnorm("h.out", x, out_norm, s.eps);
  auto logits = b.lm_head("logits", hf, embd);  // tied: token_embd is the output matrix
  b.output(b.argmax("next", logits));
  b.output(logits);
  return g;
}

}  // namespace brickc::ir::testing
