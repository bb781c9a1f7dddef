#include "frontend/synth/quant_mix.h"

#include <fmt/format.h>

#include <array>
#include <cctype>

#include "ir/error.h"

namespace brickc::synth {
namespace {

struct MixInfo {
  QuantMix mix;
  std::string_view name;
  uint32_t ftype;     // llama_ftype (llama.h)
  DType default_type; // llama_ftype_get_default_type
};

constexpr std::array kMixes = {
    MixInfo{QuantMix::Q4_K_M, "q4_k_m", 15, DType::Q4_K},
    MixInfo{QuantMix::Q5_K_M, "q5_k_m", 17, DType::Q5_K},
    MixInfo{QuantMix::Q6_K, "q6_k", 18, DType::Q6_K},
    MixInfo{QuantMix::Q4_0, "q4_0", 2, DType::Q4_0},
    MixInfo{QuantMix::Q4_1, "q4_1", 3, DType::Q4_1},
    MixInfo{QuantMix::Q5_0, "q5_0", 8, DType::Q5_0},
    MixInfo{QuantMix::Q5_1, "q5_1", 9, DType::Q5_1},
    MixInfo{QuantMix::Q8_0, "q8_0", 7, DType::Q8_0},
    MixInfo{QuantMix::F16, "f16", 1, DType::F16},
    MixInfo{QuantMix::F32, "f32", 0, DType::F32},
};

const MixInfo& mix_info(QuantMix m) {
  for (const auto& i : kMixes)
    if (i.mix == m) return i;
  fail("internal: unknown quant mix {}", static_cast<int>(m));
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}
int64_t block(DType t) { return info(t).block_elems; }

// tensor_allows_quantization: 2-D (or more) tensors named *weight, except norms.
bool quantizable(const TensorSpec& t) {
  return t.ne.size() >= 2 && ends_with(t.name, "weight") && !contains(t.name, "_norm.weight");
}

// tensor_type_fallback: K-quant blocks are 256 wide; a row that does not divide falls
// back to a 32-wide type of similar size, and to F16 when even that does not divide.
DType shape_fallback(const TensorSpec& t, DType type) {
  const int64_t ncols = t.ne[0];
  if (ncols % block(type) == 0) return type;
  DType fb;
  switch (type) {
    case DType::Q4_K: fb = DType::Q5_0; break;
    case DType::Q5_K: fb = DType::Q5_1; break;
    case DType::Q6_K: fb = DType::Q8_0; break;
    default:
      fail("tensor {}: row length {} is not a multiple of the {} block size {}, and "
           "llama.cpp defines no fallback for {}", t.name, ncols, name(type), block(type),
           name(type));
  }
  return ncols % block(fb) == 0 ? fb : DType::F16;
}

}  // namespace

QuantMix parse_quant_mix(std::string_view s) {
  std::string lower(s);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& i : kMixes)
    if (i.name == lower) return i.mix;
  fail("unknown quant '{}': expected one of {}", s, quant_mix_names());
}

std::string_view name(QuantMix m) { return mix_info(m).name; }

std::string quant_mix_names() {
  std::string s;
  for (const auto& i : kMixes) s += fmt::format("{}{}", s.empty() ? "" : ", ", i.name);
  return s;
}

uint32_t llama_ftype(QuantMix m) { return mix_info(m).ftype; }

bool use_more_bits(int i, int n) {
  return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

void assign_types(std::vector<TensorSpec>& tensors, QuantMix mix, int n_layer) {
  const DType default_type = mix_info(mix).default_type;
  // The _M K-quant mixes give some attn_v and ffn_down matrices more bits.
  const bool k_m = mix == QuantMix::Q4_K_M || mix == QuantMix::Q5_K_M;
  // init_quantize_state_counters: counted over the whole file before any choice.
  int n_attn_v = 0;
  bool tied = true;
  for (const auto& t : tensors) {
    if (contains(t.name, "attn_v.weight")) ++n_attn_v;
    if (t.name == "output.weight") tied = false;
  }
  int i_attn_v = 0, i_ffn_down = 0;
  for (auto& t : tensors) {
    if (!quantizable(t)) {
      t.type = DType::F32;  // the converter's f32 norms and biases are copied
      continue;
    }
    // Only a quantized default type goes through the mix rules (F16 and F32 stay so).
    if (mix == QuantMix::F16 || mix == QuantMix::F32) {
      t.type = default_type;
      continue;
    }
    DType type = default_type;
    if (t.name == "output.weight" || (tied && t.name == "token_embd.weight")) {
      // The output matrix is the most sensitive; a tied embedding is that matrix.
      if (t.ne[0] % block(type) != 0)
        type = DType::Q8_0;
      else if (type != DType::Q8_0)
        type = DType::Q6_K;
    } else if (contains(t.name, "attn_v.weight")) {
      if (k_m && use_more_bits(i_attn_v, n_attn_v)) type = DType::Q6_K;
      ++i_attn_v;
    } else if (contains(t.name, "ffn_down")) {
      if (k_m && use_more_bits(i_ffn_down, n_layer)) type = DType::Q6_K;
      ++i_ffn_down;
    }
    // attn_q/k/output, ffn_gate/up and an untied token_embd keep the default for these
    // mixes (the Falcon, MoE, 70B and imatrix special cases do not apply to qwen2).
    t.type = shape_fallback(t, type);
  }
}

std::map<DType, int> tally(const std::vector<TensorSpec>& tensors) {
  std::map<DType, int> n;
  for (const auto& t : tensors) ++n[t.type];
  return n;
}

std::string tally_string(const std::vector<TensorSpec>& tensors) {
  std::string s;
  for (const auto& [type, count] : tally(tensors))
    s += fmt::format("{}{} {}", s.empty() ? "" : ", ", name(type), count);
  return s;
}

}  // namespace brickc::synth
