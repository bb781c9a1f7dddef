// The on-disk kernel cache: hits return what was compiled, every input changes the key,
// and broken or unwritable caches fall back to compiling. Needs NVRTC, not a GPU.
#include "codegen/ptx/module_cache.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/error.h"
#include "test/unit/temp_files.h"

namespace brickc::ptx {
namespace {

namespace fs = std::filesystem;

const char* kSource = R"(
extern "C" __global__ void brickc_cache_probe(float* a, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) a[i] = a[i] * 3.0f + 1.0f;
}
)";
const char* kTag = "13000|Test GPU|sm_90";

// Sets environment variables for one test and puts the old values back afterwards.
class EnvGuard {
 public:
  void set(const char* name, const std::optional<std::string>& value) {
    if (!saved_.count(name)) {
      const char* old = std::getenv(name);
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
    }
    if (value)
      ::setenv(name, value->c_str(), 1);
    else
      ::unsetenv(name);
  }
  ~EnvGuard() {
    for (const auto& [name, value] : saved_) {
      if (value)
        ::setenv(name.c_str(), value->c_str(), 1);
      else
        ::unsetenv(name.c_str());
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

class ModuleCache : public ::testing::Test {
 protected:
  void SetUp() override {
    try {
      nvrtc_version();
    } catch (const Error& e) {
      GTEST_SKIP() << "NVRTC unavailable: " << e.what();
    }
    dir_ = brickc::testing::temp_path("kernels");
    fs::remove_all(dir_);
    env_.set("BRICKC_CACHE_DIR", dir_);
    env_.set("BRICKC_NO_KERNEL_CACHE", std::nullopt);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::vector<fs::path> entries() const {
    std::vector<fs::path> out;
    if (fs::is_directory(dir_))
      for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path());
    return out;
  }

  std::string dir_;
  EnvGuard env_;
};

TEST_F(ModuleCache, MissThenHitReturnsTheSameOutput) {
  CompileOptions o;
  bool hit = true;
  Compiled first = compile_cached(kSource, "probe.cu", o, kTag, &hit);
  EXPECT_FALSE(hit);
  ASSERT_EQ(entries().size(), 1u);
  EXPECT_EQ(entries()[0].filename(), kernel_cache_key(kSource, "probe.cu", o, kTag));

  Compiled second = compile_cached(kSource, "probe.cu", o, kTag, &hit);
  EXPECT_TRUE(hit);
  EXPECT_EQ(second.ptx, first.ptx);
  EXPECT_EQ(second.cubin, first.cubin);
  EXPECT_EQ(second.log, first.log);
  // And both are what NVRTC gives without the cache.
  Compiled direct = compile(kSource, "probe.cu", o);
  EXPECT_EQ(first.ptx, direct.ptx);
  EXPECT_EQ(first.cubin.size(), direct.cubin.size());
  EXPECT_NE(first.ptx.find(".entry brickc_cache_probe"), std::string::npos);
}

TEST_F(ModuleCache, EveryInputChangesTheKey) {
  CompileOptions o;
  const std::string base = kernel_cache_key(kSource, "probe.cu", o, kTag);
  EXPECT_EQ(base.size(), 32u);
  EXPECT_EQ(kernel_cache_key(kSource, "probe.cu", o, kTag), base);  // stable

  CompileOptions extra = o;
  extra.extra = {"-DTILE=4"};
  CompileOptions ptx_only = o;
  ptx_only.want_cubin = false;
  CompileOptions other_arch = o;
  other_arch.arch = "sm_80";
  std::vector<std::string> keys = {
      kernel_cache_key(kSource, "probe.cu", extra, kTag),
      kernel_cache_key(kSource, "probe.cu", ptx_only, kTag),
      kernel_cache_key(kSource, "probe.cu", other_arch, kTag),
      kernel_cache_key(std::string(kSource) + " ", "probe.cu", o, kTag),
      kernel_cache_key(kSource, "probe2.cu", o, kTag),
      kernel_cache_key(kSource, "probe.cu", o, "13010|Test GPU|sm_90"),
      kernel_cache_key(kSource, "probe.cu", o, "13000|Other GPU|sm_90"),
  };
  for (const std::string& k : keys) EXPECT_NE(k, base);

  // A different key is a different entry: a miss, then both are cached.
  bool hit = true;
  compile_cached(kSource, "probe.cu", o, kTag, &hit);
  EXPECT_FALSE(hit);
  compile_cached(kSource, "probe.cu", extra, kTag, &hit);
  EXPECT_FALSE(hit);
  EXPECT_EQ(entries().size(), 2u);
}

TEST_F(ModuleCache, TruncatedOrCorruptEntryIsAMissAndIsRewritten) {
  CompileOptions o;
  Compiled good = compile_cached(kSource, "probe.cu", o, kTag);
  ASSERT_EQ(entries().size(), 1u);
  const fs::path entry = entries()[0];
  const std::string bytes = brickc::testing::read_file(entry.string());

  auto rewrite = [&](const std::string& content) {
    std::ofstream(entry, std::ios::binary | std::ios::trunc) << content;
  };
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x40;
  for (const std::string& broken :
       {bytes.substr(0, bytes.size() / 2), bytes.substr(0, 10), std::string(), flipped}) {
    rewrite(broken);
    bool hit = true;
    Compiled again = compile_cached(kSource, "probe.cu", o, kTag, &hit);
    EXPECT_FALSE(hit) << broken.size() << " bytes";
    EXPECT_EQ(again.ptx, good.ptx);
    EXPECT_EQ(again.cubin, good.cubin);
    EXPECT_EQ(brickc::testing::read_file(entry.string()), bytes);  // overwritten whole
  }
  bool hit = false;
  compile_cached(kSource, "probe.cu", o, kTag, &hit);
  EXPECT_TRUE(hit);
}

TEST_F(ModuleCache, UnwritableDirectoryStillCompiles) {
  // A directory below a regular file cannot be created, whoever runs the test.
  const std::string file = brickc::testing::temp_path("not_a_dir");
  std::ofstream(file) << "x";
  env_.set("BRICKC_CACHE_DIR", file + "/kernels");
  bool hit = true;
  Compiled c = compile_cached(kSource, "probe.cu", CompileOptions{}, kTag, &hit);
  EXPECT_FALSE(hit);
  EXPECT_NE(c.ptx.find(".entry brickc_cache_probe"), std::string::npos);
  c = compile_cached(kSource, "probe.cu", CompileOptions{}, kTag, &hit);
  EXPECT_FALSE(hit);
  fs::remove(file);
}

TEST_F(ModuleCache, DisabledByEnvironment) {
  env_.set("BRICKC_NO_KERNEL_CACHE", "1");
  EXPECT_EQ(kernel_cache_dir(), "");
  bool hit = true;
  compile_cached(kSource, "probe.cu", CompileOptions{}, kTag, &hit);
  compile_cached(kSource, "probe.cu", CompileOptions{}, kTag, &hit);
  EXPECT_FALSE(hit);
  EXPECT_TRUE(entries().empty());
}

TEST(ModuleCacheDir, ResolvedFromEnvironment) {
  EnvGuard env;
  env.set("BRICKC_NO_KERNEL_CACHE", std::nullopt);
  env.set("BRICKC_CACHE_DIR", "/c/kernels");
  env.set("XDG_CACHE_HOME", "/xdg");
  env.set("HOME", "/home/u");
  EXPECT_EQ(kernel_cache_dir(), "/c/kernels");
  env.set("BRICKC_CACHE_DIR", std::nullopt);
  EXPECT_EQ(kernel_cache_dir(), "/xdg/brickc/kernels");
  env.set("XDG_CACHE_HOME", std::nullopt);
  EXPECT_EQ(kernel_cache_dir(), "/home/u/.cache/brickc/kernels");
  env.set("BRICKC_NO_KERNEL_CACHE", "0");
  EXPECT_EQ(kernel_cache_dir(), "/home/u/.cache/brickc/kernels");
  env.set("BRICKC_NO_KERNEL_CACHE", "1");
  EXPECT_EQ(kernel_cache_dir(), "");
}

}  // namespace
}  // namespace brickc::ptx
