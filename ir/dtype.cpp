#include "ir/dtype.h"

#include <array>
#include <cctype>
#include <string>

#include "ir/error.h"

namespace brickc {
namespace {

struct Entry {
  DType type;
  DTypeInfo info;
};

// Block sizes from ggml-common.h (QK4_0 = 32, QK_K = 256, ...).
constexpr std::array kTypes = {
    Entry{DType::F32, {"f32", 1, 4, true}},
    Entry{DType::F16, {"f16", 1, 2, true}},
    Entry{DType::Q4_0, {"q4_0", 32, 18, true}},
    Entry{DType::Q4_1, {"q4_1", 32, 20, true}},
    Entry{DType::Q5_0, {"q5_0", 32, 22, true}},
    Entry{DType::Q5_1, {"q5_1", 32, 24, true}},
    Entry{DType::Q8_0, {"q8_0", 32, 34, true}},
    Entry{DType::Q8_1, {"q8_1", 32, 36, false}},
    Entry{DType::Q2_K, {"q2_K", 256, 84, false}},
    Entry{DType::Q3_K, {"q3_K", 256, 110, false}},
    Entry{DType::Q4_K, {"q4_K", 256, 144, true}},
    Entry{DType::Q5_K, {"q5_K", 256, 176, true}},
    Entry{DType::Q6_K, {"q6_K", 256, 210, true}},
    Entry{DType::Q8_K, {"q8_K", 256, 292, true}},
    Entry{DType::I8, {"i8", 1, 1, false}},
    Entry{DType::I16, {"i16", 1, 2, false}},
    Entry{DType::I32, {"i32", 1, 4, false}},
    Entry{DType::I64, {"i64", 1, 8, false}},
    Entry{DType::F64, {"f64", 1, 8, false}},
    Entry{DType::BF16, {"bf16", 1, 2, true}},
};

}  // namespace

std::optional<DType> dtype_from_ggml(uint32_t id) {
  for (const auto& e : kTypes)
    if (static_cast<uint32_t>(e.type) == id) return e.type;
  return std::nullopt;
}

const DTypeInfo& info(DType t) {
  for (const auto& e : kTypes)
    if (e.type == t) return e.info;
  fail("internal: dtype id {} has no info", static_cast<uint32_t>(t));
}

std::optional<DType> dtype_from_name(std::string_view s) {
  for (const auto& e : kTypes) {
    if (e.info.name.size() != s.size()) continue;
    bool same = true;
    for (size_t i = 0; i < s.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(s[i])) ==
             std::tolower(static_cast<unsigned char>(e.info.name[i]));
    if (same) return e.type;
  }
  return std::nullopt;
}

std::optional<uint64_t> row_bytes(DType t, uint64_t n) {
  const auto& i = info(t);
  if (n % i.block_elems != 0) return std::nullopt;
  return n / i.block_elems * i.block_bytes;
}

}  // namespace brickc
