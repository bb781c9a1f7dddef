#include "ir/types.h"

#include <fmt/format.h>

namespace brickc::ir {

bool is_cache_type(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::Q8_0; }

bool is_weight_type(DType t) {
  switch (t) {
    case DType::F32:
    case DType::F16:
    case DType::BF16:
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
    case DType::Q8_0:
    case DType::Q2_K:
    case DType::Q3_K:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K:
      return true;
    default:
      return false;
  }
}

bool is_activation_type(DType t) { return t == DType::F32 || t == kInt8Activations; }

int64_t Shape::rows() const {
  int64_t r = 1;
  for (size_t i = 1; i < dims.size(); ++i) r *= dims[i];
  return r;
}

int64_t Shape::elements() const { return ne0() * rows(); }

uint64_t TensorType::bytes() const {
  const auto& i = info(elem);
  uint64_t blocks = (static_cast<uint64_t>(shape.ne0()) + i.block_elems - 1) / i.block_elems;
  return static_cast<uint64_t>(shape.rows()) * blocks * i.block_bytes;
}

std::string to_string(const Shape& s) { return fmt::format("[{}]", fmt::join(s.dims, ", ")); }

std::string to_string(const TensorType& t) {
  return fmt::format("{}{}", name(t.elem), to_string(t.shape));
}

}  // namespace brickc::ir
