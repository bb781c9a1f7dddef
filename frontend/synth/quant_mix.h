// The per-tensor types llama.cpp's quantizer (llama_tensor_get_type in src/llama-quant.cpp,
// summarized in gguf-qwen2.md §5) gives a qwen2 model for the mixes brickc synthesizes,
// so synthetic files carry the same type layout as real downloads. Rules only, no data;
// test/ref/test_synth_vs_llama_quantize.py checks every mix against llama.cpp's quantizer.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/synth/tensor_plan.h"
#include "ir/dtype.h"

namespace brickc::synth {

enum class QuantMix { Q4_K_M, Q5_K_M, Q6_K, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, F16, F32 };

// "q4_k_m", "q5_k_m", ... "f32" (case-insensitive); an Error lists them otherwise.
QuantMix parse_quant_mix(std::string_view s);
std::string_view name(QuantMix m);
std::string quant_mix_names();
// The llama_ftype stored as general.file_type: F32=0, F16=1, Q4_0=2, Q4_1=3, Q8_0=7,
// Q5_0=8, Q5_1=9, Q4_K_M=15, Q5_K_M=17, Q6_K=18.
uint32_t llama_ftype(QuantMix m);

// llama.cpp's use_more_bits(i, n): the layers of attn_v / ffn_down that Q4_K_M keeps at
// Q6_K (the first and last eighth, and every third one in between).
bool use_more_bits(int i, int n);

// Sets the type of every tensor in `tensors` (a whole model, in file order: the attn_v
// and ffn_down counters run in that order, and a missing output.weight means the token
// embedding doubles as the output). n_layer sizes the ffn_down rule.
void assign_types(std::vector<TensorSpec>& tensors, QuantMix mix, int n_layer);

// Tensor count per type, e.g. {f32: 121, q5_0: 132, ...}.
std::map<DType, int> tally(const std::vector<TensorSpec>& tensors);
std::string tally_string(const std::vector<TensorSpec>& tensors);  // "f32 121, q5_0 132"

}  // namespace brickc::synth
