// Scratch files for unit tests: a fresh path per test (suite, test and process in the
// name, so parallel ctest runs never collide) and reading a file back whole.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

namespace brickc::testing {

inline std::string temp_path(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return ::testing::TempDir() + "brickc_" + info->test_suite_name() + "_" + info->name() + "_" +
         std::to_string(::getpid()) + "_" + name;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace brickc::testing
