// The .npy writer: the file is read back here and its header checked against the format
// (magic, version 1.0, little-endian length, a dict numpy can parse, 64-byte alignment).
#include "runtime/npy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "ir/error.h"
#include "test/unit/temp_files.h"

namespace brickc {
namespace {

using testing::temp_path;

struct Parsed {
  int64_t rows = -1, cols = -1;
  std::vector<float> data;
};

Parsed read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  Parsed p;
  EXPECT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 6), "\x93NUMPY");
  EXPECT_EQ(bytes[6], 1);  // major version
  EXPECT_EQ(bytes[7], 0);  // minor version
  const size_t len = static_cast<uint8_t>(bytes[8]) | static_cast<uint8_t>(bytes[9]) << 8;
  EXPECT_EQ((10 + len) % 64, 0u) << "data must start 64-byte aligned";
  const std::string dict = bytes.substr(10, len);
  EXPECT_EQ(dict.back(), '\n');
  std::smatch m;
  const std::regex re(
      R"(^\{'descr': '<f4', 'fortran_order': False, 'shape': \((\d+), (\d+)\), \} *\n$)");
  EXPECT_TRUE(std::regex_match(dict, m, re)) << dict;
  if (m.size() != 3) return p;
  p.rows = std::stoll(m[1]);
  p.cols = std::stoll(m[2]);
  EXPECT_EQ(bytes.size(), 10 + len + p.rows * p.cols * 4);
  p.data.resize(p.rows * p.cols);
  if (!p.data.empty()) std::memcpy(p.data.data(), bytes.data() + 10 + len, p.data.size() * 4);
  return p;
}

TEST(Npy, RowsReadBackWithTheirShape) {
  std::mt19937 rng(std::random_device{}());
  std::normal_distribution<float> d;
  const int64_t cols = 151936, rows = 3;
  std::vector<float> all;
  const std::string path = temp_path("l.npy");
  {
    NpyWriter w(path, cols);
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<float> row(cols);
      for (auto& x : row) x = d(rng);
      w.append(row);
      all.insert(all.end(), row.begin(), row.end());
    }
    EXPECT_EQ(w.rows(), rows);
    w.close();
  }
  const Parsed p = read_npy(path);
  EXPECT_EQ(p.rows, rows);
  EXPECT_EQ(p.cols, cols);
  EXPECT_EQ(p.data, all);
}

TEST(Npy, EmptyAndDestructorClose) {
  const std::string path = temp_path("e.npy");
  { NpyWriter w(path, 5); }
  const Parsed p = read_npy(path);
  EXPECT_EQ(p.rows, 0);
  EXPECT_EQ(p.cols, 5);
}

TEST(Npy, Errors) {
  const std::string path = temp_path("x.npy");
  NpyWriter w(path, 4);
  EXPECT_THROW(w.append(std::vector<float>(3)), Error);
  EXPECT_THROW(NpyWriter("/nonexistent-dir/x.npy", 4), Error);
}

}  // namespace
}  // namespace brickc
