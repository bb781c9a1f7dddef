// Tensor types of the Brick IR: an element type (a ggml DType) and a shape in ggml order.
// Pure facts (sizes, byte counts, text form); no storage, no file formats.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ir/dtype.h"

namespace brickc::ir {

// Element types are ggml's: f32, f16, bf16, the GGUF block formats (q4_0 ... q6_K) and
// i32 for token ids. Int8 activations are q8_1 blocks (32 int8 + f16 scale + f16 sum),
// the layout the int8 dot-product kernels consume (DESIGN.md §6).
constexpr DType kInt8Activations = DType::Q8_1;

// A matrix may be stored in these (f32/f16/bf16 or a GGUF weight block format).
bool is_weight_type(DType t);
// A vector between bricks is f32, or int8 activations where a brick quantizes its output.
bool is_activation_type(DType t);
// A KV cache state holds f32, f16 or q8_0 (blocks of 32 values of a head row).
bool is_cache_type(DType t);

// Dimensions in ggml `ne` order: dims[0] is the contiguous row length, so a PyTorch
// [out, in] weight is [in, out] here, exactly as in the GGUF file.
struct Shape {
  std::vector<int64_t> dims;

  int64_t ne0() const { return dims.empty() ? 0 : dims[0]; }
  // Product of dims[1..]: the number of rows of length ne0.
  int64_t rows() const;
  int64_t elements() const;
  bool operator==(const Shape&) const = default;
};

// Limits keep every byte and flop count in uint64 range (and reject absurd input).
constexpr int kMaxRank = 4;
constexpr int64_t kMaxElements = int64_t{1} << 40;

struct TensorType {
  DType elem = DType::F32;
  Shape shape;

  // Bytes of the whole tensor: rows * row_bytes(elem, ne0); a partial block (only in
  // graphs the verifier rejects) counts as a whole one.
  uint64_t bytes() const;
  bool operator==(const TensorType&) const = default;
};

inline TensorType vec(DType t, int64_t n) { return {t, Shape{{n}}}; }
inline TensorType f32(int64_t n) { return vec(DType::F32, n); }
// An activation of n elements for each of `tokens` tokens: [n] for one token (the decode
// step's vectors), else [n, tokens].
inline TensorType rows(DType t, int64_t n, int64_t tokens) {
  return tokens == 1 ? vec(t, n) : TensorType{t, Shape{{n, tokens}}};
}

// "q4_K[1536, 256]"
std::string to_string(const Shape& s);
std::string to_string(const TensorType& t);

}  // namespace brickc::ir
