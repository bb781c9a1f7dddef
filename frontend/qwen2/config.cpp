#include "frontend/qwen2/config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <variant>

#include "ir/error.h"

namespace brickc::qwen2 {
namespace {

constexpr std::string_view kArch = "qwen2";

std::string key(std::string_view suffix) { return fmt::format("{}.{}", kArch, suffix); }

// feed_forward_length may be stored per layer; one value for all layers is all qwen2 has.
uint32_t read_n_ff(const gguf::File& f) {
  const std::string k = key("feed_forward_length");
  const gguf::Value* v = f.find(k);
  if (!v || v->type != gguf::ValueType::ARRAY) return f.get_u32(k);
  const auto& items = std::get<gguf::Array>(v->v).items;
  if (items.empty()) fail("{}: {} is an empty array", f.path(), k);
  uint64_t first = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const auto* u = std::get_if<uint64_t>(&items[i].v);
    const auto* s = std::get_if<int64_t>(&items[i].v);
    if (!u && !(s && *s >= 0)) fail("{}: {}[{}] is not a non-negative integer", f.path(), k, i);
    const uint64_t x = u ? *u : static_cast<uint64_t>(*s);
    if (i == 0) first = x;
    if (x != first)
      fail(
          "{}: {} differs between layers ({} in layer 0, {} in layer {}); only a uniform "
          "feed-forward length is supported",
          f.path(), k, first, x, i);
  }
  if (first > UINT32_MAX) fail("{}: {} = {} does not fit in u32", f.path(), k, first);
  return static_cast<uint32_t>(first);
}

void require_positive(const gguf::File& f, std::string_view k, uint32_t v) {
  if (v == 0) fail("{}: {} must be positive, found 0", f.path(), k);
}

// Dimensions beyond those stored are 1 (ggml), so [n] and [n, 1] are the same shape.
bool same_shape(const std::vector<int64_t>& ne, const std::vector<int64_t>& want) {
  for (size_t i = 0; i < std::max(ne.size(), want.size()); ++i) {
    const int64_t a = i < ne.size() ? ne[i] : 1;
    const int64_t b = i < want.size() ? want[i] : 1;
    if (a != b) return false;
  }
  return true;
}

std::string shape_str(const std::vector<int64_t>& ne) {
  return fmt::format("[{}]", fmt::join(ne, ", "));
}

const gguf::TensorInfo* bind(const gguf::File& f, const std::string& tensor,
                             const std::vector<int64_t>& want) {
  const gguf::TensorInfo* t = f.find_tensor(tensor);
  if (!t) fail("{}: missing tensor {} (expected shape {})", f.path(), tensor, shape_str(want));
  if (!same_shape(t->ne, want))
    fail("{}: tensor {} has shape {}, expected {}", f.path(), tensor, t->shape_string(),
         shape_str(want));
  if (!info(t->type).dequantizable)
    fail("{}: unsupported tensor type {} in tensor {}", f.path(), name(t->type), tensor);
  return t;
}

}  // namespace

Config read_config(const gguf::File& f) {
  const std::string arch = f.get_str("general.architecture");
  if (arch != kArch)
    fail("{}: general.architecture is '{}', expected '{}' (only Qwen2 models are supported)",
         f.path(), arch, kArch);

  Config c;
  c.n_layer = f.get_u32(key("block_count"));
  c.n_embd = f.get_u32(key("embedding_length"));
  c.n_ff = read_n_ff(f);
  c.n_head = f.get_u32(key("attention.head_count"));
  c.n_ctx_train = f.get_u32(key("context_length"));
  for (auto [k, v] : {std::pair{"block_count", c.n_layer},
                      {"embedding_length", c.n_embd},
                      {"feed_forward_length", c.n_ff},
                      {"attention.head_count", c.n_head},
                      {"context_length", c.n_ctx_train}})
    require_positive(f, key(k), v);
  // Each layer needs 12 tensors; checked before anything is sized by the layer count.
  if (const uint64_t most = f.tensors().size() / 12; c.n_layer > most)
    fail("{}: {} = {}, but the file's {} tensors hold at most {} layers", f.path(),
         key("block_count"), c.n_layer, f.tensors().size(), most);
  c.n_head_kv = f.find_u32(key("attention.head_count_kv")).value_or(c.n_head);
  require_positive(f, key("attention.head_count_kv"), c.n_head_kv);
  if (c.n_head % c.n_head_kv != 0)
    fail("{}: {} = {} is not a multiple of {} = {}", f.path(), key("attention.head_count"),
         c.n_head, key("attention.head_count_kv"), c.n_head_kv);

  if (c.n_embd % c.n_head != 0 && !f.find(key("attention.key_length")))
    fail("{}: {} = {} is not a multiple of {} = {} and {} is absent", f.path(),
         key("embedding_length"), c.n_embd, key("attention.head_count"), c.n_head,
         key("attention.key_length"));
  c.head_dim = f.find_u32(key("attention.key_length")).value_or(c.n_embd / c.n_head);
  require_positive(f, key("attention.key_length"), c.head_dim);
  const uint32_t v_len = f.find_u32(key("attention.value_length")).value_or(c.head_dim);
  if (v_len != c.head_dim)
    fail("{}: {} = {} differs from {} = {}; qwen2 needs equal key and value head sizes", f.path(),
         key("attention.value_length"), v_len, key("attention.key_length"), c.head_dim);
  if (c.head_dim % 2 != 0)
    fail("{}: head size {} is odd; NEOX RoPE rotates pairs (i, i + head_dim/2)", f.path(),
         c.head_dim);
  const uint32_t n_rot = f.find_u32(key("rope.dimension_count")).value_or(c.head_dim);
  if (n_rot != c.head_dim)
    fail("{}: {} = {}, expected the head size {} (qwen2 rotates whole heads)", f.path(),
         key("rope.dimension_count"), n_rot, c.head_dim);

  c.rope_theta = f.find_f32(key("rope.freq_base")).value_or(10000.0f);
  if (!(c.rope_theta > 0.0f))
    fail("{}: {} = {} must be positive", f.path(), key("rope.freq_base"), c.rope_theta);
  // Only plain RoPE is implemented: Qwen2.5-Coder GGUFs carry no scaling keys (gguf-qwen2.md §1).
  const auto scaling = f.find_str(key("rope.scaling.type"));
  auto factor = f.find_f32(key("rope.scaling.factor"));
  if (!factor) factor = f.find_f32(key("rope.scale_linear"));
  if (scaling && *scaling != "none" && *scaling != "linear")
    fail("{}: unsupported {} '{}' (only plain RoPE is implemented)", f.path(),
         key("rope.scaling.type"), *scaling);
  if (factor && *factor != 0.0f && *factor != 1.0f)
    fail("{}: unsupported RoPE scaling factor {} (only plain RoPE, factor 1, is implemented)",
         f.path(), *factor);

  c.rms_eps = f.get_f32(key("attention.layer_norm_rms_epsilon"));
  if (!(c.rms_eps > 0.0f))
    fail("{}: {} = {} must be positive", f.path(), key("attention.layer_norm_rms_epsilon"),
         c.rms_eps);

  // n_vocab is the token list's length; the embedding must then have exactly that many rows.
  const gguf::TensorInfo* embd = f.find_tensor("token_embd.weight");
  const gguf::Value* tokens = f.find("tokenizer.ggml.tokens");
  if (tokens) {
    if (tokens->type != gguf::ValueType::ARRAY ||
        std::get<gguf::Array>(tokens->v).elem != gguf::ValueType::STRING)
      fail("{}: tokenizer.ggml.tokens must be a string array, found {}", f.path(),
           name(tokens->type));
    const size_t n = std::get<gguf::Array>(tokens->v).items.size();
    if (n == 0 || n > UINT32_MAX) fail("{}: tokenizer.ggml.tokens has {} entries", f.path(), n);
    c.n_vocab = static_cast<uint32_t>(n);
    if (embd && embd->ne.size() >= 2 && embd->ne[1] != c.n_vocab)
      fail("{}: token_embd.weight has {} rows, expected n_vocab = {} (tokenizer.ggml.tokens)",
           f.path(), embd->ne[1], c.n_vocab);
  } else {
    if (!embd) fail("{}: missing tensor token_embd.weight", f.path());
    if (embd->ne.size() < 2 || embd->ne[1] <= 0 || embd->ne[1] > UINT32_MAX)
      fail("{}: token_embd.weight has shape {}, expected [n_embd, n_vocab]", f.path(),
           embd->shape_string());
    c.n_vocab = static_cast<uint32_t>(embd->ne[1]);
  }
  c.tied = f.find_tensor("output.weight") == nullptr;
  return c;
}

Tensors bind_tensors(const gguf::File& f, const Config& c) {
  const int64_t embd = c.n_embd, ff = c.n_ff, q = c.q_dim(), kv = c.kv_dim(), vocab = c.n_vocab;
  Tensors t;
  t.token_embd = bind(f, "token_embd.weight", {embd, vocab});
  t.output_norm = bind(f, "output_norm.weight", {embd});
  t.output = c.tied ? t.token_embd : bind(f, "output.weight", {embd, vocab});
  t.layers.reserve(c.n_layer);
  for (uint32_t i = 0; i < c.n_layer; ++i) {
    auto n = [i](std::string_view s) { return fmt::format("blk.{}.{}", i, s); };
    LayerTensors l;
    l.attn_norm = bind(f, n("attn_norm.weight"), {embd});
    l.wq = bind(f, n("attn_q.weight"), {embd, q});
    l.bq = bind(f, n("attn_q.bias"), {q});
    l.wk = bind(f, n("attn_k.weight"), {embd, kv});
    l.bk = bind(f, n("attn_k.bias"), {kv});
    l.wv = bind(f, n("attn_v.weight"), {embd, kv});
    l.bv = bind(f, n("attn_v.bias"), {kv});
    l.wo = bind(f, n("attn_output.weight"), {q, embd});
    l.ffn_norm = bind(f, n("ffn_norm.weight"), {embd});
    l.w_gate = bind(f, n("ffn_gate.weight"), {embd, ff});
    l.w_up = bind(f, n("ffn_up.weight"), {embd, ff});
    l.w_down = bind(f, n("ffn_down.weight"), {ff, embd});
    t.layers.push_back(l);
  }
  return t;
}

}  // namespace brickc::qwen2
