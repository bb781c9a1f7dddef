#include "frontend/qwen2/importer.h"

#include <algorithm>

#include "frontend/qwen2/config.h"
#include "ir/builder.h"
#include "ir/error.h"

namespace brickc::qwen2 {
namespace {

class Importer {
 public:
  Importer(const gguf::File& f, ir::Graph& g) : f_(f), b_(g) {}

  // Weight %name bound to tensor t, with the file's type and shape.
  ir::ValueId weight(std::string name, const gguf::TensorInfo* t) {
    return b_.weight(std::move(name), ir::TensorType{t->type, ir::Shape{t->ne}}, t->name);
  }
  // Norm weights and biases are added to f32 activations element by element: the IR
  // (and llama.cpp's Qwen2 files) keep them f32.
  ir::ValueId f32_weight(std::string name, const gguf::TensorInfo* t) {
    if (t->type != DType::F32)
      fail("{}: tensor {} is {}, expected f32 (norm weights and biases are f32 vectors)",
           f_.path(), t->name, brickc::name(t->type));
    return weight(std::move(name), t);
  }

  ir::Builder& b() { return b_; }

 private:
  const gguf::File& f_;
  ir::Builder b_;
};

}  // namespace

ir::Graph import_qwen2(const gguf::File& f, const ImportOptions& opts) {
  const Config c = read_config(f);
  const Tensors t = bind_tensors(f, c);
  const int64_t max_ctx =
      opts.max_ctx > 0 ? opts.max_ctx : std::min<int64_t>(c.n_ctx_train, 4096);
  const int64_t kv_len = opts.kv_len == 0 ? opts.n_tokens : opts.kv_len;
  if (opts.n_tokens < 1 || opts.n_tokens > max_ctx)
    fail("{}: {} tokens per step is outside 1..{} (the KV cache length)", f.path(), opts.n_tokens,
         max_ctx);
  if (opts.n_seq < 1 || opts.n_seq > 4096)
    fail("{}: {} sequences per step is outside 1..4096", f.path(), opts.n_seq);
  if (kv_len < opts.n_tokens || kv_len > max_ctx)
    fail("{}: kv_len {} is outside {}..{} (the step's tokens .. the KV cache length)", f.path(),
         kv_len, opts.n_tokens, max_ctx);

  ir::Graph g;
  g.name = "qwen2";
  g.kv_len = kv_len;
  g.n_tokens = opts.n_tokens;
  Importer im(f, g);
  ir::Builder& b = im.b();
  auto tok = b.input("tok", ir::vec(DType::I32, opts.n_tokens));
  auto pos = b.input("pos", ir::vec(DType::I32, opts.n_tokens));
  std::optional<ir::ValueId> seq;
  if (opts.n_seq > 1) seq = b.input("seq", ir::vec(DType::I32, opts.n_tokens));
  auto embd = im.weight("w.token_embd", t.token_embd);
  auto out_norm = im.f32_weight("w.output_norm", t.output_norm);
  auto out_w = c.tied ? embd : im.weight("w.output", t.output);
  ir::Shape cache{{c.head_dim, c.n_head_kv, max_ctx}};
  if (opts.n_seq > 1) cache.dims.push_back(opts.n_seq);
  for (DType t : {opts.cache.k, opts.cache.v})
    if (t != DType::F16 && !(t == DType::Q8_0 && c.head_dim % 32 == 0))
      fail("{}: a {} KV cache of head_dim {}: the cache types are f16, and q8_0 where head_dim "
           "is a multiple of 32", f.path(), name(t), c.head_dim);

  auto x = b.embed("x", tok, embd);
  for (uint32_t il = 0; il < c.n_layer; ++il) {
    const LayerTensors& l = t.layers[il];
    auto n = [il](std::string_view what) { return fmt::format("{}.{}", what, il); };
    auto w = [&](std::string_view what, const gguf::TensorInfo* ti) {
      return im.weight(n(what), ti);
    };
    auto v = [&](std::string_view what, const gguf::TensorInfo* ti) {
      return im.f32_weight(n(what), ti);
    };
    auto attn_norm = v("w.attn_norm", l.attn_norm);
    auto wq = w("w.attn_q", l.wq), wk = w("w.attn_k", l.wk), wv = w("w.attn_v", l.wv);
    auto bq = v("b.attn_q", l.bq), bk = v("b.attn_k", l.bk), bv = v("b.attn_v", l.bv);
    auto wo = w("w.attn_output", l.wo);
    auto ffn_norm = v("w.ffn_norm", l.ffn_norm);
    auto wg = w("w.ffn_gate", l.w_gate), wu = w("w.ffn_up", l.w_up);
    auto wd = w("w.ffn_down", l.w_down);
    ir::Builder::Caches kv{b.state(n("kcache"), {opts.cache.k, cache}),
                           b.state(n("vcache"), {opts.cache.v, cache})};

    b.set_layer(static_cast<int>(il));
    auto h = b.rmsnorm(n("h"), x, attn_norm, c.rms_eps);
    auto q = b.matvec(n("q"), h, wq, bq);
    auto k = b.matvec(n("k"), h, wk, bk);
    auto vv = b.matvec(n("v"), h, wv, bv);
    auto qr = b.rope(n("qr"), q, pos, c.head_dim, c.rope_theta);
    auto kr = b.rope(n("kr"), k, pos, c.head_dim, c.rope_theta);
    auto kv2 = b.kv_append({n("kc"), n("vc")}, kr, vv, pos, kv, seq);
    auto att = b.attention(n("att"), qr, kv2, pos, seq);
    auto o = b.matvec(n("o"), att, wo);
    auto x1 = b.add(n("x1"), x, o);
    auto h2 = b.rmsnorm(n("h2"), x1, ffn_norm, c.rms_eps);
    auto gate = b.matvec(n("gate"), h2, wg);
    auto up = b.matvec(n("up"), h2, wu);
    auto act = b.swiglu(n("act"), gate, up);
    auto down = b.matvec(n("down"), act, wd);
    x = b.add(n("x2"), x1, down);
    b.set_layer(-1);
  }
  auto hf = b.rmsnorm("h.out", x, out_norm, c.rms_eps);
  auto logits = b.lm_head("logits", hf, out_w, !opts.all_logits);
  if (!opts.all_logits) b.output(b.argmax("next", logits));
  b.output(logits);
  return g;
}

}  // namespace brickc::qwen2
