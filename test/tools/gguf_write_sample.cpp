// Test helper: writes a GGUF file through brickc's Writer holding every metadata type
// (scalars, arrays of each, edge values) and tensors of several types with random bytes,
// then prints what it declared as one JSON object, so that test/ref/test_gguf_interop.py
// can check that gguf-py reads back exactly that.
//   usage: gguf_write_sample OUT.gguf [SEED] [ALIGNMENT]
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "frontend/gguf/writer.h"
#include "ir/error.h"

namespace {

using brickc::DType;
using brickc::gguf::Array;
using brickc::gguf::Value;
using brickc::gguf::ValueType;
using Json = nlohmann::ordered_json;

Json scalar_json(const Value& v) {
  if (v.type == ValueType::F32 || v.type == ValueType::F64) {
    double x = std::get<double>(v.v);
    if (std::isnan(x)) return "nan";
    if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
    return x;
  }
  if (const auto* u = std::get_if<uint64_t>(&v.v)) return *u;
  if (const auto* i = std::get_if<int64_t>(&v.v)) return *i;
  if (const auto* b = std::get_if<bool>(&v.v)) return *b;
  return std::get<std::string>(v.v);
}

class Sample {
 public:
  explicit Sample(uint64_t seed) : rng_(seed) {}

  Value random(ValueType t) {
    switch (t) {
      case ValueType::U8: return Value::u8(static_cast<uint8_t>(rng_()));
      case ValueType::I8: return Value::i8(static_cast<int8_t>(rng_()));
      case ValueType::U16: return Value::u16(static_cast<uint16_t>(rng_()));
      case ValueType::I16: return Value::i16(static_cast<int16_t>(rng_()));
      case ValueType::U32: return Value::u32(static_cast<uint32_t>(rng_()));
      case ValueType::I32: return Value::i32(static_cast<int32_t>(rng_()));
      case ValueType::U64: return Value::u64(rng_());
      case ValueType::I64: return Value::i64(static_cast<int64_t>(rng_()));
      case ValueType::F32:
        return Value::f32(std::ldexp(std::uniform_real_distribution<float>(-1, 1)(rng_),
                                     static_cast<int>(rng_() % 200) - 100));
      case ValueType::F64:
        return Value::f64(std::ldexp(std::uniform_real_distribution<double>(-1, 1)(rng_),
                                     static_cast<int>(rng_() % 1600) - 800));
      case ValueType::BOOL: return Value::boolean(rng_() & 1);
      case ValueType::STRING: return Value::str(random_string());
      case ValueType::ARRAY: break;
    }
    brickc::fail("internal: no random array");
  }

  // Valid UTF-8 (gguf-py decodes strictly), with quotes, escapes and multibyte text.
  std::string random_string() {
    static const char* pieces[] = {"a", "Z", "0", " ", "\"", "\\", "\n", "\t", "{%", "Ġ", "é",
                                   "中", "🙂", "<|im_start|>", "'", "\x7f"};
    std::string s;
    size_t n = rng_() % 12;
    for (size_t i = 0; i < n; ++i) s += pieces[rng_() % std::size(pieces)];
    return s;
  }

  std::vector<uint8_t> bytes(size_t n) {
    std::vector<uint8_t> v(n);
    for (auto& x : v) x = static_cast<uint8_t>(rng_());
    return v;
  }

 private:
  std::mt19937_64 rng_;
};

const ValueType kScalarTypes[] = {ValueType::U8, ValueType::I8, ValueType::U16, ValueType::I16,
                                  ValueType::U32, ValueType::I32, ValueType::F32, ValueType::BOOL,
                                  ValueType::STRING, ValueType::U64, ValueType::I64,
                                  ValueType::F64};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    fmt::print(stderr, "usage: {} OUT.gguf [SEED] [ALIGNMENT]\n", argv[0]);
    return 2;
  }
  try {
    std::string out = argv[1];
    uint64_t seed = argc > 2 ? std::stoull(argv[2]) : 1;
    uint32_t alignment = argc > 3 ? static_cast<uint32_t>(std::stoul(argv[3])) : 32;
    Sample s(seed);

    std::vector<std::pair<std::string, Value>> kv;
    for (ValueType t : kScalarTypes)
      kv.emplace_back(fmt::format("sample.{}", name(t)), s.random(t));
    for (ValueType t : kScalarTypes) {
      std::vector<Value> items;
      size_t n = 1 + s.bytes(1)[0] % 40;
      for (size_t i = 0; i < n; ++i) items.push_back(s.random(t));
      kv.emplace_back(fmt::format("sample.array.{}", name(t)),
                      Value::array(t, std::move(items)));
    }
    const float kInf = std::numeric_limits<float>::infinity();
    kv.emplace_back("sample.f32_edges",
                    Value::f32_array({kInf, -kInf, -0.0f, std::numeric_limits<float>::quiet_NaN(),
                                      std::numeric_limits<float>::denorm_min(),
                                      std::numeric_limits<float>::max()}));
    kv.emplace_back("sample.int_edges",
                    Value::array(ValueType::I64,
                                 {Value::i64(std::numeric_limits<int64_t>::min()),
                                  Value::i64(std::numeric_limits<int64_t>::max())}));
    kv.emplace_back("sample.u64_max", Value::u64(std::numeric_limits<uint64_t>::max()));
    kv.emplace_back("sample.empty_string", Value::str(""));
    kv.emplace_back("sample.empty_array", Value::array(ValueType::I32, {}));
    kv.emplace_back("tokenizer.chat_template",
                    Value::str("{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
                               "{{ m['content'] }}<|im_end|>\n{% endfor %}"));

    struct T {
      std::string name;
      std::vector<int64_t> ne;
      DType type;
      std::vector<uint8_t> data;
    };
    std::vector<T> ts = {{"sample.f32", {7, 3}, DType::F32, {}},
                         {"sample.f16", {5}, DType::F16, {}},
                         {"sample.bf16", {16, 2}, DType::BF16, {}},
                         {"sample.q4_0", {64, 3}, DType::Q4_0, {}},
                         {"sample.q8_0", {32, 2, 2}, DType::Q8_0, {}},
                         {"sample.q4_k", {256, 2}, DType::Q4_K, {}},
                         {"sample.q6_k", {512, 1, 1, 2}, DType::Q6_K, {}},
                         {"sample.i32", {3}, DType::I32, {}}};
    for (auto& t : ts) {
      int64_t n = 1;
      for (int64_t x : t.ne) n *= x;
      t.data = s.bytes(*brickc::row_bytes(t.type, t.ne[0]) * (n / t.ne[0]));
    }

    brickc::gguf::Writer w(out, alignment);
    for (const auto& [k, v] : kv) w.add(k, v);
    for (const auto& t : ts) w.add_tensor(t.name, t.ne, t.type);
    for (const auto& t : ts) w.write_tensor(t.name, t.data);
    w.finish();

    Json j;
    j["alignment"] = alignment;
    Json md = Json::array();
    if (alignment != 32)  // the Writer adds it, first
      md.push_back({{"key", "general.alignment"}, {"type", "u32"}, {"value", alignment}});
    for (const auto& [k, v] : kv) {
      Json e = {{"key", k}, {"type", name(v.type)}};
      if (v.type == ValueType::ARRAY) {
        const auto& a = std::get<Array>(v.v);
        e["elem_type"] = name(a.elem);
        e["value"] = Json::array();
        for (const auto& x : a.items) e["value"].push_back(scalar_json(x));
      } else {
        e["value"] = scalar_json(v);
      }
      md.push_back(std::move(e));
    }
    j["metadata"] = std::move(md);
    j["tensors"] = Json::array();
    for (const auto& t : ts) {
      std::string hex;
      for (uint8_t b : t.data) hex += fmt::format("{:02x}", b);
      j["tensors"].push_back(
          {{"name", t.name}, {"type", name(t.type)}, {"ne", t.ne}, {"data", hex}});
    }
    fmt::print("{}\n", j.dump());
  } catch (const brickc::Error& e) {
    fmt::print(stderr, "gguf_write_sample: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
