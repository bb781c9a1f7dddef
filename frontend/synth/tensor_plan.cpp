#include "frontend/synth/tensor_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

namespace brickc::synth {

int64_t TensorSpec::n_rows() const {
  int64_t rows = 1;
  for (size_t i = 1; i < ne.size(); ++i) rows *= ne[i];
  return rows;
}

std::vector<TensorSpec> qwen2_tensors(const qwen2::Config& c) {
  const int64_t embd = c.n_embd, q = c.q_dim(), kv = c.kv_dim(), ff = c.n_ff,
                vocab = c.n_vocab;
  std::vector<std::pair<int, TensorSpec>> all;  // (layer or -1, tensor)
  all.push_back({-1, {"token_embd.weight", {embd, vocab}}});
  all.push_back({-1, {"output_norm.weight", {embd}}});
  if (!c.tied) all.push_back({-1, {"output.weight", {embd, vocab}}});
  for (int il = 0; il < static_cast<int>(c.n_layer); ++il) {
    auto blk = [&](const char* n, std::vector<int64_t> ne) {
      all.push_back({il, {fmt::format("blk.{}.{}", il, n), std::move(ne)}});
    };
    blk("attn_norm.weight", {embd});
    blk("attn_q.weight", {embd, q});
    blk("attn_q.bias", {q});
    blk("attn_k.weight", {embd, kv});
    blk("attn_k.bias", {kv});
    blk("attn_v.weight", {embd, kv});
    blk("attn_v.bias", {kv});
    blk("attn_output.weight", {q, embd});
    blk("ffn_norm.weight", {embd});
    blk("ffn_gate.weight", {embd, ff});
    blk("ffn_up.weight", {embd, ff});
    blk("ffn_down.weight", {ff, embd});
  }
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first, a.second.name) < std::tie(b.first, b.second.name);
  });
  std::vector<TensorSpec> out;
  out.reserve(all.size());
  for (auto& [layer, t] : all) out.push_back(std::move(t));
  return out;
}

}  // namespace brickc::synth
