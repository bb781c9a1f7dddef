#include "runtime/cpu/forward.h"

#include <algorithm>
#include <cstring>

#include "frontend/quant/quant.h"
#include "ir/error.h"
#include "runtime/session.h"

namespace brickc::cpu {
namespace {

Matrix matrix(const gguf::TensorInfo& t) {
  const auto bytes = row_bytes(t.type, static_cast<uint64_t>(t.ne[0]));
  if (!bytes)
    fail("tensor {}: row length {} is not a multiple of the {} block size", t.name, t.ne[0],
         name(t.type));
  return {t.type, t.data, t.ne[0], t.n_rows(), *bytes};
}

// Norm weights and biases are small: converted to f32 once at load.
std::vector<float> to_f32(const gguf::TensorInfo& t) {
  std::vector<float> v(static_cast<size_t>(t.n_elements()));
  quant::dequantize(t.type, t.data, v.data(), t.n_elements());
  return v;
}

void ensure(std::vector<float>& v, int64_t n) {
  if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
}

}  // namespace

Qwen2Model::Qwen2Model(const gguf::File& file, const ForwardOptions& opt)
    : cfg_(qwen2::read_config(file)),
      n_ctx_(opt.n_ctx),
      activations_(opt.activations),
      pool_(std::max(opt.n_threads, 1)) {
  if (opt.n_threads < 1) fail("thread count must be at least 1, found {}", opt.n_threads);
  if (n_ctx_ < 1 || n_ctx_ > cfg_.n_ctx_train)
    fail("{}: context length {} is out of range: the model's context_length is {}", file.path(),
         n_ctx_, cfg_.n_ctx_train);
  const qwen2::Tensors t = qwen2::bind_tensors(file, cfg_);
  token_embd_ = matrix(*t.token_embd);
  output_ = matrix(*t.output);
  output_norm_ = to_f32(*t.output_norm);
  for (const auto& l : t.layers) {
    layers_.push_back({matrix(*l.wq), matrix(*l.wk), matrix(*l.wv), matrix(*l.wo),
                       matrix(*l.w_gate), matrix(*l.w_up), matrix(*l.w_down), to_f32(*l.attn_norm),
                       to_f32(*l.bq), to_f32(*l.bk), to_f32(*l.bv), to_f32(*l.ffn_norm)});
  }
  const size_t cache = static_cast<size_t>(cfg_.n_layer) * n_ctx_ * cfg_.kv_dim();
  k_cache_.assign(cache, 0.0f);
  v_cache_.assign(cache, 0.0f);
}

void Qwen2Model::check_tokens(std::span<const int32_t> tokens) const {
  runtime::check_tokens(tokens, n_past_, n_ctx_, cfg_.n_vocab);
}

std::span<const float> Qwen2Model::prefill(std::span<const int32_t> tokens, const LogitsFn& each) {
  check_tokens(tokens);
  const int64_t n = static_cast<int64_t>(tokens.size()), vocab = cfg_.n_vocab;
  for (int64_t b = 0; b < n; b += kBatch) {
    const int64_t m = std::min(kBatch, n - b), pos0 = n_past_;
    eval_batch(tokens.data() + b, m, static_cast<bool>(each));
    if (each)
      for (int64_t i = 0; i < m; ++i)
        each(pos0 + i, std::span<const float>(logits_.data() + i * vocab, vocab));
  }
  const int64_t last = each ? (n - 1) % kBatch : 0;
  return {logits_.data() + last * vocab, static_cast<size_t>(vocab)};
}

std::span<const float> Qwen2Model::decode(int32_t token) { return prefill({&token, 1}); }

void Qwen2Model::project(const Matrix& w, const float* x, int64_t n, float* y, const float* bias) {
  const DType t =
      activations_ == Activations::kLlamaCpu ? llama_cpu_activation_type(w.type) : DType::F32;
  if (t != DType::F32) {
    ensure(rounded_, n * w.cols);
    round_activations(t, x, rounded_.data(), n * w.cols);
    x = rounded_.data();
  }
  matmul(pool_, w, x, n, y, bias);
}

void Qwen2Model::eval_batch(const int32_t* tokens, int64_t n, bool all_logits) {
  const auto& c = cfg_;
  const int64_t E = c.n_embd, Q = c.q_dim(), KV = c.kv_dim(), F = c.n_ff;
  const int64_t pos0 = n_past_;
  for (auto [v, size] : {std::pair{&x_, E},
                         {&h_, E},
                         {&q_, Q},
                         {&k_, KV},
                         {&v_, KV},
                         {&att_, Q},
                         {&ffn_a_, F},
                         {&ffn_b_, F}})
    ensure(*v, n * size);
  float *x = x_.data(), *h = h_.data();
  const bool llama = activations_ == Activations::kLlamaCpu;
  const AttentionConfig attn{c.n_head, c.n_head_kv, c.head_dim, llama};

  for (int64_t i = 0; i < n; ++i) embed(token_embd_, tokens[i], x + i * E);
  for (size_t il = 0; il < layers_.size(); ++il) {
    const Layer& L = layers_[il];
    for (int64_t i = 0; i < n; ++i) rmsnorm(x + i * E, L.attn_norm.data(), h + i * E, E, c.rms_eps);
    project(L.wq, h, n, q_.data(), L.bq.data());
    project(L.wk, h, n, k_.data(), L.bk.data());
    project(L.wv, h, n, v_.data(), L.bv.data());
    for (int64_t i = 0; i < n; ++i) {
      rope_neox(q_.data() + i * Q, c.n_head, c.head_dim, pos0 + i, c.rope_theta);
      rope_neox(k_.data() + i * KV, c.n_head_kv, c.head_dim, pos0 + i, c.rope_theta);
    }
    if (llama) {
      // llama.cpp's default f16 KV cache, and Q converted to f16 for the K·Q product.
      for (auto* b : {&q_, &k_, &v_})
        round_activations(DType::F16, b->data(), b->data(), n * (b == &q_ ? Q : KV));
    }
    float* kc = k_cache_.data() + il * n_ctx_ * KV;
    float* vc = v_cache_.data() + il * n_ctx_ * KV;
    std::memcpy(kc + pos0 * KV, k_.data(), n * KV * sizeof(float));
    std::memcpy(vc + pos0 * KV, v_.data(), n * KV * sizeof(float));
    attention(pool_, attn, q_.data(), n, pos0, {kc, vc, KV, c.head_dim}, att_.data());
    project(L.wo, att_.data(), n, h);
    add(x, h, x, n * E);

    for (int64_t i = 0; i < n; ++i) rmsnorm(x + i * E, L.ffn_norm.data(), h + i * E, E, c.rms_eps);
    project(L.w_gate, h, n, ffn_a_.data());
    project(L.w_up, h, n, ffn_b_.data());
    swiglu(ffn_a_.data(), ffn_b_.data(), ffn_a_.data(), n * F);
    project(L.w_down, ffn_a_.data(), n, h);
    add(x, h, x, n * E);
  }

  const int64_t first = all_logits ? 0 : n - 1, rows = n - first;
  for (int64_t i = 0; i < rows; ++i)
    rmsnorm(x + (first + i) * E, output_norm_.data(), h + i * E, E, c.rms_eps);
  ensure(logits_, rows * c.n_vocab);
  project(output_, h, rows, logits_.data());
  n_past_ += n;
}

}  // namespace brickc::cpu
