// GGUF reader: round trips through the Writer, typed getters, split models, and hostile
// files crafted byte by byte, one per validation rule, each checked for the field its
// error names.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <limits>
#include <random>

#include "frontend/gguf/reader.h"
#include "frontend/gguf/writer.h"
#include "ir/error.h"
#include "test/unit/temp_files.h"

namespace brickc::gguf {
namespace {

using ::testing::HasSubstr;
using testing::read_file;
using testing::temp_path;

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A GGUF image assembled field by field, so that each test can break exactly one field.
struct Raw {
  std::string b;
  template <typename T>
  Raw& put(T x) {
    b.append(reinterpret_cast<const char*>(&x), sizeof(T));
    return *this;
  }
  Raw& u32(uint32_t x) { return put(x); }
  Raw& u64(uint64_t x) { return put(x); }
  Raw& i64(int64_t x) { return put(x); }
  Raw& str(std::string_view s) {
    u64(s.size());
    b.append(s);
    return *this;
  }
  Raw& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    b.append("GGUF");
    return u32(version).u64(n_tensors).u64(n_kv);
  }
  Raw& kv_u32(std::string_view key, uint32_t v) { return str(key).u32(4).u32(v); }
  Raw& tensor(std::string_view name, std::vector<int64_t> ne, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(ne.size()));
    for (int64_t x : ne) i64(x);
    return u32(type).u64(offset);
  }
  Raw& pad(size_t a = 32) {
    b.resize((b.size() + a - 1) / a * a, '\0');
    return *this;
  }
  Raw& zeros(size_t n) {
    b.append(n, '\0');
    return *this;
  }
};

// Opens `bytes` as a file; returns the error message, or "" if it opened.
std::string open_error(const std::string& bytes) {
  std::string path = temp_path("hostile.gguf");
  write_bytes(path, bytes);
  try {
    File::open(path);
  } catch (const Error& e) {
    std::filesystem::remove(path);
    return e.what();
  }
  std::filesystem::remove(path);
  return "";
}

// One f32[4] tensor 'w' and one key: the baseline every hostile case departs from.
std::string valid_minimal() {
  Raw r;
  r.header(1, 1).kv_u32("general.x", 7).tensor("w", {4}, 0, 0).pad().zeros(16);
  return r.b;
}

TEST(GgufReader, MinimalHandBuiltFileOpens) {
  EXPECT_EQ(open_error(valid_minimal()), "");
}

TEST(GgufReader, ErrorNamesThePath) {
  std::string path = temp_path("named.gguf");
  write_bytes(path, "GGUX0000");
  try {
    File::open(path);
    FAIL() << "opened a file with a bad magic";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path + ": header: magic is 'GGUX'"));
  }
  std::filesystem::remove(path);
}

TEST(GgufReader, RejectsBadMagicEmptyAndShortFiles) {
  EXPECT_THAT(open_error("GGML\x03\0\0\0"), HasSubstr("magic is 'GGML' (bytes 47 47 4d 4c), expected 'GGUF'"));
  EXPECT_THAT(open_error(""), HasSubstr("is empty (0 bytes)"));
  EXPECT_THAT(open_error("GG"), HasSubstr("file is 2 bytes, too short"));
  EXPECT_THAT(open_error(std::string("GGUF\x03\0\0\0\x01", 9)), HasSubstr("header: tensor count needs 8 bytes at offset 8"));
}

TEST(GgufReader, RejectsMissingFileAndDirectory) {
  try {
    File::open(temp_path("does-not-exist.gguf"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("No such file or directory"));
  }
  try {
    File::open(::testing::TempDir());
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("is not a regular file"));
  }
}

TEST(GgufReader, RejectsVersions) {
  Raw v1, v4, be;
  v1.header(0, 0, 1);
  v4.header(0, 0, 4);
  be.header(0, 0, 0x03000000);
  EXPECT_THAT(open_error(v1.b), HasSubstr("version 1 is not supported"));
  EXPECT_THAT(open_error(v4.b), HasSubstr("version 4 is newer than this reader; expected version 2 or 3"));
  EXPECT_THAT(open_error(be.b), HasSubstr("version field is 0x03000000: file is big-endian or not GGUF"));
  Raw v2;
  v2.header(0, 1, 2).kv_u32("a", 1);
  EXPECT_EQ(open_error(v2.b), "");
}

TEST(GgufReader, RejectsImplausibleCountsBeforeAllocating) {
  Raw t, k;
  t.header(uint64_t{1} << 62, 0).zeros(100);
  k.header(0, uint64_t{1} << 62).zeros(100);
  EXPECT_THAT(open_error(t.b), HasSubstr("header: tensor count 4611686018427387904 is implausible: the 100 bytes"));
  EXPECT_THAT(open_error(k.b), HasSubstr("header: metadata count 4611686018427387904 is implausible"));
  Raw neg;  // llama.cpp stores counts as i64: -1 must not pass as "few"
  neg.header(0, ~uint64_t{0});
  EXPECT_THAT(open_error(neg.b), HasSubstr("metadata count 18446744073709551615 is implausible"));
}

TEST(GgufReader, RejectsBadKeys) {
  Raw empty, dup, long_key;
  empty.header(0, 1).kv_u32("", 1);
  dup.header(0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2);
  long_key.header(0, 1).u64(1000).zeros(20);
  EXPECT_THAT(open_error(empty.b), HasSubstr("metadata key #0: key is empty"));
  EXPECT_THAT(open_error(dup.b), HasSubstr("metadata key #1 'a.b': duplicate key (first defined as metadata key #0)"));
  EXPECT_THAT(open_error(long_key.b), HasSubstr("metadata key #0: key length 1000 exceeds the 20 bytes left in the file"));
}

TEST(GgufReader, RejectsBadValueTypes) {
  Raw unknown, nested, elem_unknown, bad_bool, str_len;
  unknown.header(0, 1).str("k").u32(13).u32(0);
  nested.header(0, 1).str("k").u32(9).u32(9).u64(0);
  elem_unknown.header(0, 1).str("k").u32(9).u32(200).u64(0);
  bad_bool.header(0, 1).str("k").u32(7).put<uint8_t>(2);
  str_len.header(0, 1).str("k").u32(8).u64(50).zeros(10);
  EXPECT_THAT(open_error(unknown.b), HasSubstr("metadata key #0 'k': unknown value type id 13 (expected 0 to 12)"));
  EXPECT_THAT(open_error(nested.b), HasSubstr("metadata key #0 'k': nested arrays are not allowed"));
  EXPECT_THAT(open_error(elem_unknown.b), HasSubstr("unknown array element type id 200"));
  EXPECT_THAT(open_error(bad_bool.b), HasSubstr("'k': value is a bool stored as 2, expected 0 or 1"));
  EXPECT_THAT(open_error(str_len.b), HasSubstr("'k': value length 50 exceeds the 10 bytes left in the file"));
}

TEST(GgufReader, RejectsArrayLengthsBeyondTheFile) {
  // The example: a string array whose length is all ones.
  Raw strings;
  strings.header(0, 2).kv_u32("general.x", 1).str("tokenizer.ggml.tokens").u32(9).u32(8).u64(~uint64_t{0});
  strings.zeros(1234);
  EXPECT_THAT(open_error(strings.b),
              HasSubstr("metadata key #1 'tokenizer.ggml.tokens': array length 18446744073709551615 "
                        "exceeds the 1234 bytes left in the file"));
  // length * 4 would wrap to 0 in 64 bits: must still be rejected.
  Raw wrap;
  wrap.header(0, 1).str("k").u32(9).u32(4).u64(uint64_t{1} << 62).zeros(8);
  EXPECT_THAT(open_error(wrap.b), HasSubstr("array length 4611686018427387904 exceeds the 8 bytes left"));
  // A length that fits the bytes but whose strings run past the end.
  Raw strs;
  strs.header(0, 1).str("k").u32(9).u32(8).u64(2).str("ab").u64(100);
  EXPECT_THAT(open_error(strs.b), HasSubstr("'k': array element #1 length 100 exceeds the 0 bytes left"));
}

TEST(GgufReader, RejectsBadAlignment) {
  Raw wrong_type, npot, zero;
  wrong_type.header(0, 1).str("general.alignment").u32(10).u64(64);
  npot.header(0, 1).kv_u32("general.alignment", 48);
  zero.header(0, 1).kv_u32("general.alignment", 0);
  EXPECT_THAT(open_error(wrong_type.b), HasSubstr("metadata key #0 'general.alignment': type is u64, expected u32"));
  EXPECT_THAT(open_error(npot.b), HasSubstr("'general.alignment': alignment 48 is not a power of two"));
  EXPECT_THAT(open_error(zero.b), HasSubstr("alignment 0 is not a power of two"));
}

TEST(GgufReader, RejectsBadTensorNames) {
  std::string n63(63, 'a'), n64(64, 'a');
  Raw ok, too_long, dup;
  ok.header(1, 0).tensor(n63, {4}, 0, 0).pad().zeros(16);
  too_long.header(1, 0).tensor(n64, {4}, 0, 0).pad().zeros(16);
  dup.header(2, 0).tensor("w", {4}, 0, 0).tensor("w", {4}, 0, 32).pad().zeros(64);
  EXPECT_EQ(open_error(ok.b), "");
  EXPECT_THAT(open_error(too_long.b), HasSubstr("tensor #0: name length 64 exceeds ggml's limit of 63 bytes"));
  EXPECT_THAT(open_error(dup.b), HasSubstr("tensor 'w': duplicate tensor name (also tensor #0)"));
}

TEST(GgufReader, RejectsBadDims) {
  Raw zero_dims, five_dims, zero_ne, neg_ne, overflow;
  zero_dims.header(1, 0).str("w").u32(0).u32(0).u64(0).pad();
  five_dims.header(1, 0).tensor("w", {1, 1, 1, 1, 1}, 0, 0).pad().zeros(32);
  zero_ne.header(1, 0).tensor("w", {4, 0}, 0, 0).pad();
  neg_ne.header(1, 0).tensor("w", {4, -3}, 0, 0).pad();
  overflow.header(1, 0).tensor("w", {int64_t{1} << 32, int64_t{1} << 32}, 0, 0).pad();
  EXPECT_THAT(open_error(zero_dims.b), HasSubstr("tensor 'w': n_dims is 0, expected 1 to 4"));
  EXPECT_THAT(open_error(five_dims.b), HasSubstr("tensor 'w': n_dims is 5, expected 1 to 4"));
  EXPECT_THAT(open_error(zero_ne.b), HasSubstr("tensor 'w': ne[1] is 0, expected > 0"));
  EXPECT_THAT(open_error(neg_ne.b), HasSubstr("tensor 'w': ne[1] is -3, expected > 0"));
  EXPECT_THAT(open_error(overflow.b), HasSubstr("tensor 'w': element count overflows int64 at ne[1]"));
}

TEST(GgufReader, RejectsBadTypesAndSizes) {
  Raw unknown, removed, block, bytes;
  unknown.header(1, 0).tensor("blk.0.w", {32}, 99, 0).pad().zeros(128);
  removed.header(1, 0).tensor("w", {32}, 4, 0).pad().zeros(128);  // Q4_2, gone from ggml
  block.header(1, 0).tensor("w", {100, 2}, 12, 0).pad().zeros(1024);
  // 2^31 x 2^31 f64 elements: 2^62 elements fit int64, 2^65 bytes do not fit uint64.
  bytes.header(1, 0).tensor("w", {int64_t{1} << 31, int64_t{1} << 31}, 28, 0).pad();
  EXPECT_THAT(open_error(unknown.b), HasSubstr("tensor 'blk.0.w' has unknown type id 99"));
  EXPECT_THAT(open_error(removed.b), HasSubstr("tensor 'w' has unknown type id 4"));
  EXPECT_THAT(open_error(block.b), HasSubstr("tensor 'w': ne[0] = 100 is not a multiple of q4_K's block size 256"));
  EXPECT_THAT(open_error(bytes.b), HasSubstr("tensor 'w': byte size (2147483648 rows of 17179869184 bytes) overflows uint64"));
}

TEST(GgufReader, RejectsBadPlacement) {
  Raw unaligned, past_end, huge_offset, overlap, truncated;
  unaligned.header(1, 0).tensor("w", {4}, 0, 8).pad().zeros(64);
  past_end.header(1, 0).tensor("w", {16}, 0, 32).pad().zeros(64);
  huge_offset.header(1, 0).tensor("w", {16}, 0, ~uint64_t{0} - 31).pad().zeros(64);
  overlap.header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {8}, 0, 32).pad().zeros(128);
  // Enough bytes for the tensor count to be plausible, not for 4 dims.
  truncated.header(1, 0).str("w").u32(4).i64(4).i64(4).zeros(3);
  EXPECT_THAT(open_error(unaligned.b), HasSubstr("tensor 'w': data offset 8 is not a multiple of the alignment 32"));
  EXPECT_THAT(open_error(past_end.b), HasSubstr("tensor 'w': data (offset 32, 64 bytes) ends past the end of the file: the data section starts at byte 64 and holds 64 bytes"));
  EXPECT_THAT(open_error(huge_offset.b), HasSubstr("tensor 'w': data (offset 18446744073709551584"));
  EXPECT_THAT(open_error(overlap.b), HasSubstr("tensor 'b': data [32, 64) overlaps tensor 'a' at [0, 64)"));
  EXPECT_THAT(open_error(truncated.b), HasSubstr("tensor 'w': ne #2 needs 8 bytes at offset 53, but only 3 bytes are left in the file"));
}

TEST(GgufReader, AcceptsAnyAlignedDisjointLayout) {
  // Declared in the reverse of their data order, with a gap: not what llama.cpp writes,
  // but every byte is accounted for and in bounds.
  Raw r;
  r.header(2, 0).tensor("late", {4}, 0, 96).tensor("early", {4}, 0, 0).pad().zeros(128);
  std::string path = temp_path("layout.gguf");
  write_bytes(path, r.b);
  auto f = File::open(path);
  EXPECT_EQ(f->tensor("late").offset, 96u);
  EXPECT_EQ(f->tensor("late").data - f->tensor("early").data, 96);
  std::filesystem::remove(path);
}

// ---- Round trips through the Writer ----

struct Sample {
  std::vector<std::pair<std::string, Value>> kv;
  std::vector<std::tuple<std::string, std::vector<int64_t>, DType, std::vector<uint8_t>>> tensors;
};

Sample every_type_sample(uint32_t seed) {
  std::mt19937 rng(seed);
  auto r8 = [&] { return static_cast<uint8_t>(rng()); };
  Sample s;
  s.kv = {
      {"t.u8", Value::u8(r8())},
      {"t.i8", Value::i8(static_cast<int8_t>(r8()))},
      {"t.u16", Value::u16(static_cast<uint16_t>(rng()))},
      {"t.i16", Value::i16(static_cast<int16_t>(rng()))},
      {"t.u32", Value::u32(static_cast<uint32_t>(rng()))},
      {"t.i32", Value::i32(static_cast<int32_t>(rng()))},
      {"t.u64", Value::u64((uint64_t{rng()} << 32) | rng())},
      {"t.i64", Value::i64(static_cast<int64_t>((uint64_t{rng()} << 32) | rng()))},
      {"t.f32", Value::f32(std::uniform_real_distribution<float>(-1e6f, 1e6f)(rng))},
      {"t.f64", Value::f64(std::uniform_real_distribution<double>(-1e300, 1e300)(rng))},
      {"t.bool", Value::boolean(true)},
      {"t.str", Value::str(std::string("caf\xc3\xa9 \0 nul\n", 12))},
      {"t.empty_str", Value::str("")},
  };
  std::vector<ValueType> elems = {ValueType::U8, ValueType::I8, ValueType::U16, ValueType::I16,
                                  ValueType::U32, ValueType::I32, ValueType::U64, ValueType::I64,
                                  ValueType::F32, ValueType::F64, ValueType::BOOL,
                                  ValueType::STRING};
  for (ValueType e : elems) {
    std::vector<Value> items;
    for (int i = 0; i < 5 + static_cast<int>(rng() % 20); ++i) {
      switch (e) {
        case ValueType::U8: items.push_back(Value::u8(r8())); break;
        case ValueType::I8: items.push_back(Value::i8(static_cast<int8_t>(r8()))); break;
        case ValueType::U16: items.push_back(Value::u16(static_cast<uint16_t>(rng()))); break;
        case ValueType::I16: items.push_back(Value::i16(static_cast<int16_t>(rng()))); break;
        case ValueType::U32: items.push_back(Value::u32(rng())); break;
        case ValueType::I32: items.push_back(Value::i32(static_cast<int32_t>(rng()))); break;
        case ValueType::U64: items.push_back(Value::u64(~uint64_t{0} - rng())); break;
        case ValueType::I64: items.push_back(Value::i64(-(int64_t{1} << 62) + static_cast<int64_t>(rng()))); break;
        case ValueType::F32: items.push_back(Value::f32(std::ldexp(float(rng() % 1000), -int(rng() % 140)))); break;
        case ValueType::F64: items.push_back(Value::f64(std::ldexp(double(rng()), -int(rng() % 1070)))); break;
        case ValueType::BOOL: items.push_back(Value::boolean(rng() & 1)); break;
        case ValueType::STRING: items.push_back(Value::str(std::string(rng() % 9, char('a' + rng() % 26)))); break;
        default: break;
      }
    }
    s.kv.push_back({fmt::format("arr.{}", name(e)), Value::array(e, std::move(items))});
  }
  s.kv.push_back({"arr.empty", Value::array(ValueType::I32, {})});
  s.kv.push_back({"arr.f32_special",
                  Value::f32_array({std::numeric_limits<float>::infinity(), -0.0f,
                                    std::numeric_limits<float>::denorm_min(),
                                    std::numeric_limits<float>::max()})});
  auto bytes = [&](size_t n) {
    std::vector<uint8_t> v(n);
    for (auto& x : v) x = r8();
    return v;
  };
  s.tensors.emplace_back("a.f32", std::vector<int64_t>{5, 3}, DType::F32, bytes(60));
  s.tensors.emplace_back("b.q4_k", std::vector<int64_t>{512, 2}, DType::Q4_K, bytes(2 * 2 * 144));
  s.tensors.emplace_back("c.f16", std::vector<int64_t>{7}, DType::F16, bytes(14));
  s.tensors.emplace_back("d.q8_0", std::vector<int64_t>{64, 2, 3}, DType::Q8_0, bytes(6 * 2 * 34));
  return s;
}

void write_sample(const std::string& path, const Sample& s, uint32_t alignment) {
  Writer w(path, alignment);
  for (const auto& [k, v] : s.kv) w.add(k, v);
  for (const auto& [n, ne, t, data] : s.tensors) w.add_tensor(n, ne, t);
  for (const auto& [n, ne, t, data] : s.tensors) w.write_tensor(n, data);
  w.finish();
}

bool same_value(const Value& a, const Value& b) {
  if (a.type != b.type) return false;
  if (a.type == ValueType::F32 || a.type == ValueType::F64) {
    double x = std::get<double>(a.v), y = std::get<double>(b.v);
    return std::memcmp(&x, &y, sizeof x) == 0;  // bitwise: keeps -0.0 and NaN payloads
  }
  if (a.type != ValueType::ARRAY) {
    if (a.v.index() != b.v.index()) return false;
    return std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, Array>)
            return false;
          else
            return x == std::get<T>(b.v);
        },
        a.v);
  }
  const auto& x = std::get<Array>(a.v);
  const auto& y = std::get<Array>(b.v);
  if (x.elem != y.elem || x.items.size() != y.items.size()) return false;
  for (size_t i = 0; i < x.items.size(); ++i)
    if (!same_value(x.items[i], y.items[i])) return false;
  return true;
}

TEST(GgufReader, RoundTripsEveryValueTypeAndTensor) {
  for (uint32_t alignment : {32u, 64u, 1u}) {
    SCOPED_TRACE(alignment);
    Sample s = every_type_sample(1234 + alignment);
    std::string path = temp_path(fmt::format("rt{}.gguf", alignment));
    write_sample(path, s, alignment);
    auto f = File::open(path);
    EXPECT_EQ(f->version(), 3u);
    EXPECT_EQ(f->alignment(), alignment);
    EXPECT_EQ(f->n_splits(), 1u);
    size_t extra = alignment == 32 ? 0 : 1;  // general.alignment, written first
    ASSERT_EQ(f->metadata().size(), s.kv.size() + extra);
    if (extra) {
      EXPECT_EQ(f->get_u32("general.alignment"), alignment);
    }
    for (size_t i = 0; i < s.kv.size(); ++i) {
      const auto& [key, v] = f->metadata()[i + extra];
      EXPECT_EQ(key, s.kv[i].first);
      EXPECT_TRUE(same_value(v, s.kv[i].second)) << key << ": " << v.to_string(100);
    }
    ASSERT_EQ(f->tensors().size(), s.tensors.size());
    uint64_t expect_offset = 0;
    for (size_t i = 0; i < s.tensors.size(); ++i) {
      const auto& [n, ne, type, data] = s.tensors[i];
      const TensorInfo& t = f->tensors()[i];
      EXPECT_EQ(t.name, n);
      EXPECT_EQ(t.ne, ne);
      EXPECT_EQ(t.type, type);
      EXPECT_EQ(t.nbytes, data.size());
      EXPECT_EQ(t.offset, expect_offset);  // llama.cpp's rule: running padded sum
      EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % std::min<uint32_t>(alignment, 4096), 0u);
      EXPECT_EQ(std::memcmp(t.data, data.data(), data.size()), 0) << n;
      expect_offset += (data.size() + alignment - 1) / alignment * alignment;
    }
    EXPECT_EQ(f->total_bytes(), std::filesystem::file_size(path));
    EXPECT_EQ(f->data_offset(0) + expect_offset, f->total_bytes());
    std::filesystem::remove(path);
  }
}

TEST(GgufReader, ReadsVersion2) {
  Sample s = every_type_sample(7);
  std::string path = temp_path("v2.gguf");
  write_sample(path, s, 32);
  {
    std::fstream io(path, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(4);
    uint32_t v2 = 2;
    io.write(reinterpret_cast<const char*>(&v2), 4);
  }
  auto f = File::open(path);
  EXPECT_EQ(f->version(), 2u);
  EXPECT_EQ(f->tensors().size(), s.tensors.size());
  std::filesystem::remove(path);
}

// ---- Typed getters ----

class GgufGetters : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = temp_path("getters.gguf");
    Writer w(path_);
    w.add("u8", Value::u8(200));
    w.add("i64_small", Value::i64(123456));
    w.add("i32_neg", Value::i32(-1));
    w.add("u64_big", Value::u64(uint64_t{1} << 40));
    w.add("f32", Value::f32(1e-6f));
    w.add("f64", Value::f64(1000000.0));
    w.add("str", Value::str("qwen2"));
    w.add("strs", Value::str_array({"a", "bc", ""}));
    w.add("i32s", Value::i32_array({1, -2, 3}));
    w.add("u32s", Value::array(ValueType::U32, {Value::u32(5), Value::u32(0xFFFFFFFF)}));
    w.add("u8s", Value::array(ValueType::U8, {Value::u8(1), Value::u8(255)}));
    w.finish();
    f_ = File::open(path_);
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string error_of(const std::function<void()>& fn) {
    try {
      fn();
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  std::string path_;
  std::unique_ptr<File> f_;
};

TEST_F(GgufGetters, IntegersOfAnyWidthThatFit) {
  EXPECT_EQ(f_->get_u32("u8"), 200u);
  EXPECT_EQ(f_->get_u32("i64_small"), 123456u);
  EXPECT_EQ(f_->find_u32("absent"), std::nullopt);
  EXPECT_THAT(error_of([&] { f_->get_u32("i32_neg"); }), HasSubstr(path_ + ": metadata key 'i32_neg' is -1 (i32), which does not fit u32"));
  EXPECT_THAT(error_of([&] { f_->get_u32("u64_big"); }), HasSubstr("'u64_big' is 1099511627776 (u64), which does not fit u32"));
  EXPECT_THAT(error_of([&] { f_->get_u32("str"); }), HasSubstr("'str' has type string, expected an integer that fits u32"));
  EXPECT_THAT(error_of([&] { f_->get_u32("absent"); }), HasSubstr("'absent' is missing (expected an integer that fits u32)"));
}

TEST_F(GgufGetters, FloatsAndStrings) {
  EXPECT_EQ(f_->get_f32("f32"), 1e-6f);
  EXPECT_EQ(f_->get_f32("f64"), 1e6f);
  EXPECT_EQ(f_->find_f32("absent"), std::nullopt);
  EXPECT_THAT(error_of([&] { f_->get_f32("u8"); }), HasSubstr("'u8' has type u8, expected f32 or f64"));
  EXPECT_EQ(f_->get_str("str"), "qwen2");
  EXPECT_EQ(f_->find_str("absent"), std::nullopt);
  EXPECT_THAT(error_of([&] { f_->get_str("strs"); }), HasSubstr("'strs' has type array of string, expected string"));
}

TEST_F(GgufGetters, Arrays) {
  EXPECT_EQ(f_->get_str_array("strs"), (std::vector<std::string>{"a", "bc", ""}));
  EXPECT_EQ(f_->get_i32_array("i32s"), (std::vector<int32_t>{1, -2, 3}));
  EXPECT_EQ(f_->get_i32_array("u8s"), (std::vector<int32_t>{1, 255}));
  EXPECT_THAT(error_of([&] { f_->get_i32_array("u32s"); }), HasSubstr("'u32s' element #1 is 4294967295, which does not fit i32"));
  EXPECT_THAT(error_of([&] { f_->get_i32_array("strs"); }), HasSubstr("'strs' has type array of string, expected array of i32"));
  EXPECT_THAT(error_of([&] { f_->get_str_array("i32s"); }), HasSubstr("'i32s' has type array of i32, expected array of string"));
  EXPECT_THAT(error_of([&] { f_->tensor("nope"); }), HasSubstr("tensor 'nope' not found"));
}

// ---- Split models ----

struct SplitFixture {
  std::string prefix;
  int parts;
  std::vector<std::vector<uint8_t>> data;  // per tensor t<i>, tensor i lives in part i % parts
  int n_tensors;

  std::string part(int i) const { return fmt::format("{}-{:05d}-of-{:05d}.gguf", prefix, i + 1, parts); }

  void write(int bad_no_part = -1, int32_t tensors_count_delta = 0) {
    std::mt19937 rng(42);
    data.clear();
    for (int t = 0; t < n_tensors; ++t) {
      std::vector<uint8_t> d(32 * (t + 1));
      for (auto& x : d) x = static_cast<uint8_t>(rng());
      data.push_back(d);
    }
    for (int p = 0; p < parts; ++p) {
      Writer w(part(p));
      if (p == 0) w.add("general.architecture", Value::str("qwen2"));
      w.add("split.no", Value::u16(static_cast<uint16_t>(p == bad_no_part ? p + 1 : p)));
      w.add("split.count", Value::u16(static_cast<uint16_t>(parts)));
      w.add("split.tensors.count", Value::i32(n_tensors + tensors_count_delta));
      for (int t = p; t < n_tensors; t += parts) w.add_tensor(fmt::format("t{}", t), {8 * (t + 1)}, DType::F32);
      for (int t = p; t < n_tensors; t += parts) w.write_tensor(fmt::format("t{}", t), data[t]);
      w.finish();
    }
  }
  void remove() const {
    for (int p = 0; p < parts; ++p) std::filesystem::remove(part(p));
  }
};

TEST(GgufSplit, OpensAllPartsFromAnyPart) {
  SplitFixture s{temp_path("model"), 3, {}, 7};
  s.write();
  for (int named : {0, 2}) {
    auto f = File::open(s.part(named));
    EXPECT_EQ(f->n_splits(), 3u);
    EXPECT_EQ(f->get_str("general.architecture"), "qwen2");
    ASSERT_EQ(f->tensors().size(), 7u);
    uint64_t total = 0;
    for (int p = 0; p < 3; ++p) {
      EXPECT_EQ(f->part_path(p), s.part(p));
      total += std::filesystem::file_size(s.part(p));
    }
    EXPECT_EQ(f->total_bytes(), total);
    for (int t = 0; t < 7; ++t) {
      const TensorInfo& ti = f->tensor(fmt::format("t{}", t));
      EXPECT_EQ(ti.split, static_cast<uint32_t>(t % 3));
      ASSERT_EQ(ti.nbytes, s.data[t].size());
      EXPECT_EQ(std::memcmp(ti.data, s.data[t].data(), ti.nbytes), 0);
    }
  }
  s.remove();
}

TEST(GgufSplit, MissingPartIsNamed) {
  SplitFixture s{temp_path("model"), 3, {}, 5};
  s.write();
  std::filesystem::remove(s.part(1));
  try {
    File::open(s.part(0));
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(s.part(1) + ": cannot open split part 2 of 3"));
    EXPECT_THAT(e.what(), HasSubstr("No such file or directory"));
  }
  s.remove();
}

TEST(GgufSplit, ChecksSplitKeys) {
  SplitFixture s{temp_path("model"), 2, {}, 4};
  s.write(/*bad_no_part=*/1);
  try {
    File::open(s.part(0));
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(s.part(1) + ": split.no is 2, expected 1"));
  }
  s.write(-1, /*tensors_count_delta=*/1);
  try {
    File::open(s.part(0));
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("split.tensors.count is 5, but the 2 parts hold 4 tensors"));
  }
  s.remove();
}

TEST(GgufSplit, SplitCountNeedsASplitName) {
  std::string path = temp_path("plain.gguf");
  {
    Writer w(path);
    w.add("split.count", Value::u16(2));
    w.finish();
  }
  try {
    File::open(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("split.count is 2, but the name does not end in -NNNNN-of-NNNNN.gguf"));
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace brickc::gguf
