#include "frontend/gguf/value.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace brickc::gguf {
namespace {

// Longer strings are cut for one-line display; the cut keeps whole UTF-8 characters.
constexpr size_t kMaxShownStringBytes = 64;

void append_quoted(std::string& out, std::string_view s) {
  bool cut = s.size() > kMaxShownStringBytes;
  std::string_view shown = s;
  if (cut) {
    size_t n = kMaxShownStringBytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    shown = s.substr(0, n);
  }
  out += '"';
  for (char ch : shown) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7F)
          out += fmt::format("\\x{:02x}", c);
        else
          out += ch;
    }
  }
  out += '"';
  if (cut) out += fmt::format("... ({} bytes)", s.size());
}

void append_scalar(std::string& out, const Value& v) {
  switch (v.type) {
    case ValueType::U8: case ValueType::U16: case ValueType::U32: case ValueType::U64:
      out += fmt::format("{}", std::get<uint64_t>(v.v));
      break;
    case ValueType::I8: case ValueType::I16: case ValueType::I32: case ValueType::I64:
      out += fmt::format("{}", std::get<int64_t>(v.v));
      break;
    case ValueType::F32:  // shortest text that reads back as the same float
      out += fmt::format("{}", static_cast<float>(std::get<double>(v.v)));
      break;
    case ValueType::F64:
      out += fmt::format("{}", std::get<double>(v.v));
      break;
    case ValueType::BOOL:
      out += std::get<bool>(v.v) ? "true" : "false";
      break;
    case ValueType::STRING:
      append_quoted(out, std::get<std::string>(v.v));
      break;
    case ValueType::ARRAY:
      out += "[array]";  // nested arrays cannot be stored; shown rather than hidden
      break;
  }
}

}  // namespace

std::string_view name(ValueType t) {
  static constexpr std::array<std::string_view, 13> kNames = {
      "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool",
      "string", "array", "u64", "i64", "f64"};
  auto i = static_cast<uint32_t>(t);
  return i < kNames.size() ? kNames[i] : std::string_view("unknown");
}

Value Value::str_array(const std::vector<std::string>& xs) {
  std::vector<Value> items;
  items.reserve(xs.size());
  for (const auto& x : xs) items.push_back(str(x));
  return array(ValueType::STRING, std::move(items));
}

Value Value::i32_array(const std::vector<int32_t>& xs) {
  std::vector<Value> items;
  items.reserve(xs.size());
  for (int32_t x : xs) items.push_back(i32(x));
  return array(ValueType::I32, std::move(items));
}

Value Value::f32_array(const std::vector<float>& xs) {
  std::vector<Value> items;
  items.reserve(xs.size());
  for (float x : xs) items.push_back(f32(x));
  return array(ValueType::F32, std::move(items));
}

std::string Value::to_string(size_t max_items) const {
  std::string out;
  if (type != ValueType::ARRAY) {
    append_scalar(out, *this);
    return out;
  }
  const auto& a = std::get<Array>(v);
  out += fmt::format("[{} {}", a.items.size(),
                     a.elem == ValueType::STRING ? "strings" : name(a.elem));
  size_t shown = std::min(a.items.size(), max_items);
  for (size_t i = 0; i < shown; ++i) {
    out += i == 0 ? ": " : ", ";
    append_scalar(out, a.items[i]);
  }
  if (shown < a.items.size()) out += shown == 0 ? ": ..." : ", ...";
  out += ']';
  return out;
}

}  // namespace brickc::gguf
