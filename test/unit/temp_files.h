// Scratch files for unit tests: a fresh path per test (suite and test in the name, in a
// directory of the process, so parallel ctest runs never collide) and reading a file back
// whole.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace brickc::testing {

// This test process's scratch directory; it goes, with all in it, when the process exits,
// so that a test's files (and the parts a path prefix names, as split GGUF files) never
// outlive the run.
inline const std::string& temp_dir() {
  struct Dir {
    std::string path = ::testing::TempDir() + "brickc-test-" + std::to_string(::getpid());
    Dir() { std::filesystem::create_directories(path); }
    ~Dir() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Dir dir;
  return dir.path;
}

inline std::string temp_path(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return temp_dir() + "/" + info->test_suite_name() + "_" + info->name() + "_" + name;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace brickc::testing
