// NVRTC through codegen/ptx: embedded kernel headers, PTX + cubin output, and error
// messages that point at the failing source line. Needs NVRTC, not a GPU.
#include "codegen/ptx/nvrtc.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "codegen/ptx/kernel_sources.h"
#include "ir/error.h"
#include "test/unit/temp_files.h"

namespace brickc::ptx {
namespace {

#define SKIP_WITHOUT_NVRTC()                           \
  try {                                                \
    nvrtc_version();                                   \
  } catch (const Error& e) {                           \
    GTEST_SKIP() << "NVRTC unavailable: " << e.what(); \
  }

// Includes every embedded header, so this also checks that each one compiles on its own.
std::string test_kernel_source() {
  std::string src;
  for (const KernelFile& k : kernel_files()) src += "#include \"" + std::string(k.name) + "\"\n";
  src += R"(
extern "C" __global__ void brickc_test_scale(float* a, const float* b, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) a[i] = b[i] * 2.0f + i;
}
)";
  return src;
}

std::string error_of(const std::string& src, const std::string& name, const CompileOptions& o) {
  try {
    compile(src, name, o);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(NvrtcKernelFiles, EmbedsEachCuhFileVerbatim) {
  // The source tree is where this test was compiled from; compare against the files on disk.
  std::filesystem::path dir =
      std::filesystem::path(BRICKC_SOURCE_DIR) / "codegen/ptx/kernels";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no source tree at " << dir;
  size_t on_disk = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".cuh") continue;
    ++on_disk;
    std::string name = entry.path().filename().string();
    EXPECT_EQ(kernel_file(name), brickc::testing::read_file(entry.path().string())) << name;
  }
  EXPECT_EQ(kernel_files().size(), on_disk);
  for (size_t i = 1; i < kernel_files().size(); ++i)
    EXPECT_LT(kernel_files()[i - 1].name, kernel_files()[i].name);
}

TEST(NvrtcKernelFiles, UnknownNameIsAnErrorListingKnownOnes) {
  try {
    kernel_file("no_such_kernel.cuh");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("no_such_kernel.cuh"), std::string::npos) << msg;
    if (!kernel_files().empty()) {
      EXPECT_NE(msg.find(kernel_files().front().name), std::string::npos) << msg;
    }
  }
}

TEST(NvrtcCompile, PtxAndCubinForAKernelUsingEmbeddedHeaders) {
  SKIP_WITHOUT_NVRTC();
  CompileOptions o;
  o.arch = "sm_90";
  Compiled c = compile(test_kernel_source(), "scale.cu", o);
  EXPECT_NE(c.ptx.find(".entry brickc_test_scale"), std::string::npos) << c.ptx;
  EXPECT_NE(c.ptx.find(".target sm_90"), std::string::npos);
  ASSERT_GE(c.cubin.size(), 64u);
  EXPECT_EQ(c.cubin.substr(0, 4), std::string("\177ELF"));
}

TEST(NvrtcCompile, PtxOnlyWhenNoCubinIsWanted) {
  SKIP_WITHOUT_NVRTC();
  CompileOptions o;
  o.want_cubin = false;
  Compiled c = compile(test_kernel_source(), "scale.cu", o);
  EXPECT_NE(c.ptx.find(".entry brickc_test_scale"), std::string::npos);
  EXPECT_TRUE(c.cubin.empty());
}

TEST(NvrtcCompile, OptionsAreFixedThenExtra) {
  CompileOptions o;
  o.arch = "sm_90a";
  o.extra = {"-DTILE=4"};
  std::vector<std::string> want_ptx = {"-std=c++17", "--gpu-architecture=compute_90a",
                                       "-default-device", "-DTILE=4"};
  EXPECT_EQ(nvrtc_options(o, false), want_ptx);
  EXPECT_EQ(nvrtc_options(o, true)[1], "--gpu-architecture=sm_90a");
}

TEST(NvrtcCompile, SyntaxErrorShowsLogAndNumberedSourceLine) {
  SKIP_WITHOUT_NVRTC();
  const std::string bad_line = "  float y = brickc_undefined_name * 2.0f;";
  const std::string src =
      "// line 1\n"
      "extern \"C\" __global__ void k(float* a) {\n"
      "  int i = threadIdx.x;\n"
      "  float x = a[i];\n" +
      bad_line + "\n" +
      "  a[i] = x + y;\n"
      "}\n";
  std::string msg = error_of(src, "broken.cu", CompileOptions{});
  EXPECT_NE(msg.find("NVRTC failed to compile broken.cu"), std::string::npos) << msg;
  EXPECT_NE(msg.find("broken.cu(5): error"), std::string::npos) << msg;  // NVRTC's log line
  EXPECT_NE(msg.find("brickc_undefined_name"), std::string::npos) << msg;
  // The quoted source: the failing line marked and numbered, with its neighbours.
  EXPECT_NE(msg.find(">     5 | " + bad_line), std::string::npos) << msg;
  EXPECT_NE(msg.find("      2 | extern \"C\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("      7 | }"), std::string::npos) << msg;
}

TEST(NvrtcCompile, MissingHeaderIsAnError) {
  SKIP_WITHOUT_NVRTC();
  std::string msg = error_of("#include \"no_such_header.cuh\"\n", "inc.cu", CompileOptions{});
  EXPECT_NE(msg.find("NVRTC failed to compile inc.cu"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no_such_header.cuh"), std::string::npos) << msg;
}

TEST(NvrtcCompile, ArchMustBeSmXX) {
  CompileOptions o;
  o.arch = "gfx90a";
  std::string msg = error_of("", "x.cu", o);
  EXPECT_NE(msg.find("gfx90a"), std::string::npos) << msg;
  EXPECT_NE(msg.find("sm_XX"), std::string::npos) << msg;
}

}  // namespace
}  // namespace brickc::ptx
