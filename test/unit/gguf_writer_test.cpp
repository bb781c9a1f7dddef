// GGUF writer: the byte layout it produces (checked on the raw bytes, not through our
// reader), the streaming contract (order, byte counts, temp file), and write errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

#include "frontend/gguf/writer.h"
#include "ir/error.h"
#include "test/unit/temp_files.h"

namespace brickc::gguf {
namespace {

using ::testing::HasSubstr;
using testing::read_file;
using testing::temp_path;

template <typename T>
T at(const std::string& b, size_t pos) {
  T x;
  std::memcpy(&x, b.data() + pos, sizeof(T));
  return x;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Files in the temp dir whose name starts with `path`'s file name (the temp files).
int leftovers(const std::string& path) {
  const std::filesystem::path p(path);
  const auto base = p.filename().string();
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(p.parent_path()))
    if (e.path().filename().string().rfind(base, 0) == 0) ++n;
  return n;
}

TEST(GgufWriter, LayoutFollowsTheSpec) {
  for (uint32_t alignment : {32u, 128u}) {
    SCOPED_TRACE(alignment);
    std::string path = temp_path("layout.gguf");
    std::vector<uint8_t> a(60, 0xAA), c(14, 0xCC);
    {
      Writer w(path, alignment);
      w.add("k", Value::u8(5));
      w.add_tensor("a", {5, 3}, DType::F32);
      w.add_tensor("c", {7}, DType::F16);
      EXPECT_EQ(w.data_bytes(), (60 + alignment - 1) / alignment * alignment + alignment);
      w.write_tensor("a", a);
      w.write_tensor("c", c);
      w.finish();
    }
    std::string b = read_file(path);
    ASSERT_GE(b.size(), 24u);
    EXPECT_EQ(b.substr(0, 4), "GGUF");
    EXPECT_EQ(at<uint32_t>(b, 4), 3u);
    EXPECT_EQ(at<uint64_t>(b, 8), 2u);
    bool extra = alignment != 32;
    EXPECT_EQ(at<uint64_t>(b, 16), 1u + extra);
    // Header size by hand: each kv is key (8 + len) + type (4) + value; each info is
    // name (8 + len) + n_dims (4) + 8 per dim + type (4) + offset (8).
    size_t kv = (8 + 1 + 4 + 1) + (extra ? 8 + 17 + 4 + 4 : 0);
    size_t infos = (8 + 1 + 4 + 16 + 4 + 8) + (8 + 1 + 4 + 8 + 4 + 8);
    size_t end = 24 + kv + infos;
    size_t start = (end + alignment - 1) / alignment * alignment;
    size_t a_pad = (60 + alignment - 1) / alignment * alignment;
    size_t c_pad = (14 + alignment - 1) / alignment * alignment;
    ASSERT_EQ(b.size(), start + a_pad + c_pad);
    // Second tensor info's offset field is the last 8 bytes of the infos.
    EXPECT_EQ(at<uint64_t>(b, end - 8), a_pad);
    EXPECT_EQ(b.substr(end, start - end), std::string(start - end, '\0'));
    EXPECT_EQ(b.substr(start, 60), std::string(60, '\xAA'));
    EXPECT_EQ(b.substr(start + 60, a_pad - 60), std::string(a_pad - 60, '\0'));
    EXPECT_EQ(b.substr(start + a_pad, 14), std::string(14, '\xCC'));
    EXPECT_EQ(b.substr(start + a_pad + 14), std::string(c_pad - 14, '\0'));
    if (extra) {
      EXPECT_EQ(b.substr(24 + 8, 17), "general.alignment");
      EXPECT_EQ(at<uint32_t>(b, 24 + 8 + 17 + 4), alignment);
    }
    std::filesystem::remove(path);
  }
}

TEST(GgufWriter, StreamsATensorInChunks) {
  std::string path = temp_path("chunks.gguf");
  std::vector<uint8_t> q(2 * 144);
  for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<uint8_t>(i * 7);
  Writer w(path);
  w.add_tensor("q", {256, 2}, DType::Q4_K);
  w.begin_tensor("q");
  w.write(std::span(q).subspan(0, 100));
  w.write(std::span(q).subspan(100, 0));
  w.write(std::span(q).subspan(100));
  w.finish();
  std::string b = read_file(path);
  EXPECT_EQ(b.substr(b.size() - 288), std::string(q.begin(), q.end()));
  std::filesystem::remove(path);
}

TEST(GgufWriter, RejectsWrongByteCounts) {
  std::string path = temp_path("counts.gguf");
  std::vector<uint8_t> bytes(100);
  {
    Writer w(path);
    w.add_tensor("a", {5, 3}, DType::F32);
    w.add_tensor("b", {4}, DType::F32);
    w.begin_tensor("a");
    w.write(std::span(bytes).subspan(0, 56));
    EXPECT_THAT(error_of([&] { w.begin_tensor("b"); }),
                HasSubstr(path + ": tensor 'a' (f32 5x3) received 56 bytes, expected 60"));
  }
  {
    Writer w(path);
    w.add_tensor("a", {5, 3}, DType::F32);
    w.begin_tensor("a");
    w.write(std::span(bytes).subspan(0, 50));
    EXPECT_THAT(error_of([&] { w.write(std::span(bytes).subspan(0, 14)); }),
                HasSubstr("tensor 'a' (f32 5x3) given 64 bytes, more than its 60"));
  }
  {
    Writer w(path);
    w.add_tensor("a", {4}, DType::F32);
    w.begin_tensor("a");
    EXPECT_THAT(error_of([&] { w.finish(); }), HasSubstr("tensor 'a' (f32 4) received 0 bytes, expected 16"));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(leftovers(path), 0);
}

TEST(GgufWriter, RejectsOrderViolations) {
  std::string path = temp_path("order.gguf");
  std::vector<uint8_t> bytes(16);
  Writer w(path);
  w.add_tensor("a", {4}, DType::F32);
  w.add_tensor("b", {4}, DType::F32);
  w.add_tensor("c", {4}, DType::F32);
  EXPECT_THAT(error_of([&] { w.write(bytes); }), HasSubstr("write() outside begin_tensor()"));
  EXPECT_THAT(error_of([&] { w.begin_tensor("b"); }),
              HasSubstr("tensor 'b' begun out of order: the next declared tensor is 'a'"));
  EXPECT_THAT(error_of([&] { w.begin_tensor("zzz"); }), HasSubstr("tensor 'zzz' was not declared"));
  w.write_tensor("a", bytes);
  EXPECT_THAT(error_of([&] { w.begin_tensor("a"); }), HasSubstr("tensor 'a' was already written"));
  EXPECT_THAT(error_of([&] { w.add("late", Value::u8(1)); }), HasSubstr("metadata key 'late' added after tensor data was started"));
  EXPECT_THAT(error_of([&] { w.add_tensor("d", {4}, DType::F32); }), HasSubstr("tensor 'd' declared after tensor data was started"));
  w.write_tensor("b", bytes);
  EXPECT_THAT(error_of([&] { w.finish(); }), HasSubstr("tensor 'c' was declared but not written (2 of 3 tensors written)"));
}

TEST(GgufWriter, RejectsBadDeclarations) {
  std::string path = temp_path("decl.gguf");
  Writer w(path);
  w.add("k", Value::u8(1));
  EXPECT_THAT(error_of([&] { w.add("k", Value::u8(2)); }), HasSubstr("metadata key 'k' added twice"));
  EXPECT_THAT(error_of([&] { w.add("", Value::u8(2)); }), HasSubstr("metadata key is empty"));
  EXPECT_THAT(error_of([&] { w.add("wide", Value{ValueType::U8, uint64_t{300}}); }),
              HasSubstr("metadata key 'wide': u8 value 300 does not fit"));
  EXPECT_THAT(error_of([&] { w.add("wrong", Value{ValueType::F32, std::string("x")}); }),
              HasSubstr("'wrong': f32 value does not hold a floating-point number"));
  EXPECT_THAT(error_of([&] { w.add("mixed", Value::array(ValueType::U32, {Value::u32(1), Value::i32(2)})); }),
              HasSubstr("'mixed': element #1 has type i32, but the array holds u32"));
  EXPECT_THAT(error_of([&] { w.add("nest", Value::array(ValueType::ARRAY, {})); }),
              HasSubstr("'nest': nested arrays cannot be stored"));
  EXPECT_THAT(error_of([&] { w.add("general.alignment", Value::u32(64)); }),
              HasSubstr("general.alignment must be the u32 32 given to the Writer"));
  EXPECT_THAT(error_of([&] { w.add_tensor(std::string(64, 'n'), {4}, DType::F32); }),
              HasSubstr("is 64 bytes, ggml allows at most 63"));
  EXPECT_THAT(error_of([&] { w.add_tensor("t", {}, DType::F32); }), HasSubstr("tensor 't' has 0 dimensions, expected 1 to 4"));
  EXPECT_THAT(error_of([&] { w.add_tensor("t", {1, 1, 1, 1, 1}, DType::F32); }), HasSubstr("has 5 dimensions"));
  EXPECT_THAT(error_of([&] { w.add_tensor("t", {4, 0}, DType::F32); }), HasSubstr("tensor 't' has ne[1] = 0, expected > 0"));
  EXPECT_THAT(error_of([&] { w.add_tensor("t", {100}, DType::Q6_K); }),
              HasSubstr("tensor 't': ne[0] = 100 is not a multiple of q6_K's block size 256"));
  EXPECT_THAT(error_of([&] { w.add_tensor("t", {int64_t{1} << 31, int64_t{1} << 31}, DType::F64); }),
              HasSubstr("exceed the 4611686018427387904 bytes a file may hold"));
  w.add_tensor("t", {4}, DType::F32);
  EXPECT_THAT(error_of([&] { w.add_tensor("t", {4}, DType::F32); }), HasSubstr("tensor 't' declared twice"));
  EXPECT_THAT(error_of([] { Writer bad("x.gguf", 48); }), HasSubstr("alignment 48 is not a power of two"));
  EXPECT_THAT(error_of([&] { Writer bad(temp_path("no/such/dir.gguf")); }),
              HasSubstr("cannot create the temporary file"));
}

TEST(GgufWriter, TempFileIsRemovedWithoutFinish) {
  std::string path = temp_path("abandoned.gguf");
  {
    Writer w(path);
    w.add_tensor("a", {4}, DType::F32);
    std::vector<uint8_t> bytes(16);
    w.write_tensor("a", bytes);
    EXPECT_EQ(leftovers(path), 1);  // the temp file exists while writing...
    EXPECT_FALSE(std::filesystem::exists(path));  // ...and the final name does not
  }
  EXPECT_EQ(leftovers(path), 0);
}

TEST(GgufWriter, WriteErrorNamesPathAndErrno) {
  // A file-size limit makes write() fail with EFBIG, as a full disk fails with ENOSPC.
  std::string path = temp_path("big.gguf");
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  rlimit small = old_limit;
  small.rlim_cur = 1 << 16;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string err;
  {
    std::vector<uint8_t> bytes(4 << 20);
    Writer w(path);
    w.add_tensor("big", {static_cast<int64_t>(bytes.size())}, DType::I8);
    err = error_of([&] {
      w.write_tensor("big", bytes);
      w.finish();
    });
  }
  setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_THAT(err, HasSubstr(path + ": writing"));
  EXPECT_THAT(err, HasSubstr(std::strerror(EFBIG)));
  EXPECT_EQ(leftovers(path), 0);
}

}  // namespace
}  // namespace brickc::gguf
