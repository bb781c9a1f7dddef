// Element types: the GGUF/ggml tensor types (ids as stored in files) and their block
// geometry. Pure facts about formats; conversion code lives in frontend/quant.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace brickc {

// Values are ggml's type ids (ggml.h), so a GGUF type field converts by cast after
// dtype_from_ggml() has validated it.
enum class DType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, BF16 = 30,
};

struct DTypeInfo {
  std::string_view name;   // ggml's lower-case name: "q4_K", "f16", ...
  uint32_t block_elems;    // elements per block (1 for plain types)
  uint32_t block_bytes;    // bytes per block
  bool dequantizable;      // brickc can convert it to f32
};

// Known ggml type id → info; nullopt for ids ggml does not define (or that were removed).
std::optional<DType> dtype_from_ggml(uint32_t id);
const DTypeInfo& info(DType t);
inline std::string_view name(DType t) { return info(t).name; }
// Parses ggml's names case-insensitively ("q4_k", "Q4_K", "f16").
std::optional<DType> dtype_from_name(std::string_view s);

// Bytes of a row of n elements; nullopt if n is not a multiple of the block size.
std::optional<uint64_t> row_bytes(DType t, uint64_t n);

}  // namespace brickc
