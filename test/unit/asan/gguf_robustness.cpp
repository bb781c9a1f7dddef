// The GGUF reader under AddressSanitizer + UBSan: a valid file written by the Writer is
// truncated at every length and corrupted at random, and every variant must either open
// (then each byte it exposes is read) or throw brickc::Error. Each variant is parsed twice:
// from an exact-size heap copy, where ASan catches a read one byte past the end, and
// through File::open, the mmap path users take (a read past the end of a mapping lands
// in the page's zero tail, invisible to ASan, hence the heap copy).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "frontend/gguf/parse.h"
#include "frontend/gguf/reader.h"
#include "frontend/gguf/writer.h"
#include "ir/error.h"

namespace brickc::gguf {
namespace {

volatile uint64_t g_sink;

std::string temp_path(const std::string& name) {
  return fmt::format("{}brickc_asan_{}_{}", ::testing::TempDir(), ::getpid(), name);
}

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_all(const std::string& path, const uint8_t* p, size_t n) {
  // Remove, then create: truncating in place makes ext4 flush on close (auto_da_alloc),
  // which turns thousands of tiny rewrites into seconds of disk waits.
  std::filesystem::remove(path);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(p), static_cast<std::streamsize>(n));
}

// A small file with every kind of record the parser handles.
std::vector<uint8_t> make_sample() {
  std::string path = temp_path("sample.gguf");
  std::mt19937 rng(7);
  {
    Writer w(path, 64);
    w.add("general.architecture", Value::str("qwen2"));
    w.add("qwen2.block_count", Value::u32(2));
    w.add("qwen2.rope.freq_base", Value::f32(1e6f));
    w.add("t.f64", Value::f64(0.1));
    w.add("t.i64", Value::i64(-5));
    w.add("t.bool", Value::boolean(true));
    w.add("t.u8s", Value::array(ValueType::U8, {Value::u8(1), Value::u8(2), Value::u8(3)}));
    std::vector<std::string> tokens;
    for (int i = 0; i < 40; ++i) tokens.push_back(std::string(1 + i % 5, char('a' + i % 26)));
    w.add("tokenizer.ggml.tokens", Value::str_array(tokens));
    w.add("tokenizer.ggml.token_type", Value::i32_array(std::vector<int32_t>(40, 1)));
    w.add("t.f32s", Value::f32_array({0.5f, -1.0f}));
    struct T {
      const char* name;
      std::vector<int64_t> ne;
      DType type;
    };
    std::vector<T> ts = {{"token_embd.weight", {256, 3}, DType::Q4_K},
                         {"blk.0.attn_q.weight", {64, 2}, DType::Q8_0},
                         {"output_norm.weight", {16}, DType::F32},
                         {"blk.0.attn_q.bias", {33}, DType::F16}};
    for (const auto& t : ts) w.add_tensor(t.name, t.ne, t.type);
    for (const auto& t : ts) {
      int64_t n = 1;
      for (int64_t x : t.ne) n *= x;
      std::vector<uint8_t> d(*row_bytes(t.type, t.ne[0]) * (n / t.ne[0]));
      for (auto& x : d) x = static_cast<uint8_t>(rng());
      w.write_tensor(t.name, d);
    }
    w.finish();
  }
  auto bytes = read_all(path);
  std::filesystem::remove(path);
  return bytes;
}

uint64_t touch(const Value& v) {
  uint64_t h = v.to_string().size();
  if (const auto* s = std::get_if<std::string>(&v.v))
    for (char c : *s) h += static_cast<uint8_t>(c);
  if (const auto* a = std::get_if<Array>(&v.v))
    for (const auto& x : a->items) h += touch(x);
  return h;
}

uint64_t touch(const std::vector<std::pair<std::string, Value>>& kv,
               const std::vector<TensorInfo>& tensors) {
  uint64_t h = 0;
  for (const auto& [k, v] : kv) h += k.size() + touch(v);
  for (const auto& t : tensors) {
    h += t.shape_string().size() + static_cast<uint64_t>(t.n_elements());
    for (uint64_t i = 0; i < t.nbytes; ++i) h += t.data[i];
  }
  return h;
}

// Parses `bytes` both ways; returns whether it opened. Any exception other than
// brickc::Error, or the two paths disagreeing, fails the test.
bool try_open(const std::vector<uint8_t>& bytes, const std::string& path, const std::string& what) {
  bool heap_ok = false, file_ok = false;
  std::string heap_err, file_err;
  try {
    // An exact-size heap block: one byte past it is an ASan redzone.
    auto copy = std::make_unique<uint8_t[]>(std::max<size_t>(bytes.size(), 1));
    std::copy(bytes.begin(), bytes.end(), copy.get());
    ParsedPart p = parse_part(path, copy.get(), bytes.size());
    g_sink = touch(p.kv, p.tensors);
    heap_ok = true;
  } catch (const Error& e) {
    heap_err = e.what();
  }
  write_all(path, bytes.data(), bytes.size());
  try {
    auto f = File::open(path);
    g_sink = touch(f->metadata(), f->tensors());
    file_ok = true;
  } catch (const Error& e) {
    file_err = e.what();
  }
  EXPECT_EQ(heap_ok, file_ok) << what << "\n heap: " << heap_err << "\n file: " << file_err;
  return heap_ok && file_ok;
}

TEST(GgufRobustness, EveryTruncationOpensOnlyWhenComplete) {
  auto full = make_sample();
  std::string path = temp_path("truncated.gguf");
  ParsedPart p = parse_part(path, full.data(), full.size());
  uint64_t needed = 0;
  for (const auto& t : p.tensors) needed = std::max(needed, p.data_offset + t.offset + t.nbytes);
  ASSERT_LE(needed, full.size());
  int opened = 0;
  for (size_t len = 0; len <= full.size(); ++len) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<ptrdiff_t>(len));
    bool ok = try_open(cut, path, fmt::format("truncated to {} of {} bytes", len, full.size()));
    EXPECT_EQ(ok, len >= needed) << "length " << len;
    opened += ok;
  }
  std::filesystem::remove(path);
  fmt::print("{} truncations of a {}-byte file, {} opened (complete from {} bytes)\n",
             full.size() + 1, full.size(), opened, needed);
}

TEST(GgufRobustness, RandomCorruptionsOpenOrFailCleanly) {
  auto full = make_sample();
  std::string path = temp_path("corrupt.gguf");
  ParsedPart p = parse_part(path, full.data(), full.size());
  std::mt19937_64 rng(20240601);
  // Most corruptions hit the header, metadata and tensor infos, where they matter; some
  // hit tensor data, which the reader does not interpret.
  std::uniform_int_distribution<size_t> in_header(0, p.data_offset - 1);
  std::uniform_int_distribution<size_t> anywhere(0, full.size() - 1);
  const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x07, 0x08, 0x09, 0x0C, 0x0D, 0x20,
                                 0x3F, 0x40, 0x7F, 0x80, 0xFE, 0xFF};
  int opened = 0;
  const int kIterations = 3000;
  for (int it = 0; it < kIterations; ++it) {
    auto bytes = full;
    int n = 1 + static_cast<int>(rng() % 8);
    std::string what = fmt::format("iteration {}:", it);
    for (int k = 0; k < n; ++k) {
      size_t pos = rng() % 10 < 9 ? in_header(rng) : anywhere(rng);
      uint8_t val = rng() % 2 ? static_cast<uint8_t>(rng()) : interesting[rng() % sizeof(interesting)];
      bytes[pos] = val;
      what += fmt::format(" [{}]={:#04x}", pos, val);
    }
    opened += try_open(bytes, path, what);
    if (::testing::Test::HasFailure()) break;
  }
  std::filesystem::remove(path);
  fmt::print("{} corrupted variants: {} opened, {} rejected with an error\n", kIterations, opened,
             kIterations - opened);
}

}  // namespace
}  // namespace brickc::gguf
