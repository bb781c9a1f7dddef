// GGUF metadata values: the 13 stored types, scalars and (non-nested) arrays, kept with
// the type they were stored as so that files round-trip exactly.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace brickc::gguf {

enum class ValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};
std::string_view name(ValueType t);  // "u32", "string", "array", ...

struct Value;
struct Array {
  ValueType elem = ValueType::U8;  // never ARRAY: GGUF forbids nested arrays
  std::vector<Value> items;
};

// Integers are held widened (unsigned in uint64_t, signed in int64_t), floats in double;
// `type` remembers the stored width.
struct Value {
  ValueType type = ValueType::U8;
  std::variant<uint64_t, int64_t, double, bool, std::string, Array> v;

  static Value u8(uint8_t x) { return {ValueType::U8, uint64_t{x}}; }
  static Value u16(uint16_t x) { return {ValueType::U16, uint64_t{x}}; }
  static Value u32(uint32_t x) { return {ValueType::U32, uint64_t{x}}; }
  static Value u64(uint64_t x) { return {ValueType::U64, x}; }
  static Value i8(int8_t x) { return {ValueType::I8, int64_t{x}}; }
  static Value i16(int16_t x) { return {ValueType::I16, int64_t{x}}; }
  static Value i32(int32_t x) { return {ValueType::I32, int64_t{x}}; }
  static Value i64(int64_t x) { return {ValueType::I64, x}; }
  static Value f32(float x) { return {ValueType::F32, double{x}}; }
  static Value f64(double x) { return {ValueType::F64, x}; }
  static Value boolean(bool x) { return {ValueType::BOOL, x}; }
  static Value str(std::string x) { return {ValueType::STRING, std::move(x)}; }
  static Value array(ValueType elem, std::vector<Value> items) {
    return {ValueType::ARRAY, Array{elem, std::move(items)}};
  }
  static Value str_array(const std::vector<std::string>& xs);
  static Value i32_array(const std::vector<int32_t>& xs);
  static Value f32_array(const std::vector<float>& xs);

  // One-line rendering for `inspect`: long arrays and strings are abbreviated.
  std::string to_string(size_t max_items = 8) const;
};

}  // namespace brickc::gguf
