// The CUDA runtime layer on a real GPU: copies, NVRTC-compiled kernels, graphs, events and
// the errors users see (kernel faults, out of memory). Each test skips with the probe's
// reason where CUDA is unusable.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "codegen/ptx/nvrtc.h"
#include "ir/error.h"
#include "runtime/cuda/context.h"
#include "runtime/cuda/driver.h"
#include "runtime/cuda/memory.h"
#include "runtime/cuda/module.h"
#include "runtime/cuda/stream.h"

namespace brickc::cuda {
namespace {

#define SKIP_WITHOUT_GPU() \
  if (!probe().usable()) GTEST_SKIP() << "CUDA unusable: " << probe().why_unusable()

Context& context() {
  static Context c(0);
  return c;
}

const char* kKernels = R"(
extern "C" __global__ void scale_add_index(float* a, const float* b, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) a[i] = b[i] * 2.0f + i;
}
extern "C" __global__ void accumulate(float* acc, const float* b, float k, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) acc[i] = acc[i] * 0.5f + b[i] + k;
}
// Launched with a programmatic dependency: may start before the previous kernel ends.
extern "C" __global__ void accumulate_pdl(float* acc, const float* b, float k, int n) {
  asm volatile("griddepcontrol.wait;" ::: "memory");
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) acc[i] = acc[i] * 0.5f + b[i] + k;
}
extern "C" __global__ void spin(unsigned long long cycles, int* out) {
  long long start = clock64();
  while (clock64() - start < (long long)cycles) {}
  if (threadIdx.x == 0) out[blockIdx.x] = 1;
}
extern "C" __global__ void write_null(int* p) { p[threadIdx.x] = 1; }
__device__ int brickc_table[4];
)";

Module load_kernels(bool from_ptx = false) {
  ptx::CompileOptions o;
  o.arch = context().arch();
  ptx::Compiled c = ptx::compile(kKernels, "runtime_test.cu", o);
  return Module::load(from_ptx ? c.ptx : c.cubin, "runtime_test.cu");
}

LaunchDims dims_for(int n, unsigned block = 256) {
  LaunchDims d;
  d.grid[0] = (static_cast<unsigned>(n) + block - 1) / block;
  d.block[0] = block;
  return d;
}

std::vector<float> random_floats(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-4.0f, 4.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(CudaRuntimeGpu, ContextDescribesTheDevice) {
  SKIP_WITHOUT_GPU();
  const DeviceInfo& d = context().info();
  EXPECT_FALSE(d.name.empty());
  EXPECT_GT(d.sm_count, 0);
  EXPECT_GT(d.l2_bytes, 0u);
  EXPECT_GT(d.max_smem_per_block_optin, 48 * 1024);
  EXPECT_GT(d.mem_bus_width, 0);
  EXPECT_EQ(context().arch(), "sm_" + std::to_string(d.cc_major) + std::to_string(d.cc_minor));
  MemInfo m = context().mem_info();
  EXPECT_GT(m.free, 0u);
  EXPECT_LE(m.free, m.total);
  EXPECT_NE(device_tag(context()).find(d.name), std::string::npos);
}

TEST(CudaRuntimeGpu, UploadDownloadRoundTrip) {
  SKIP_WITHOUT_GPU();
  context();
  const size_t n = (1u << 20) + 13;  // odd size: no alignment luck
  std::mt19937 rng(std::random_device{}());
  std::vector<uint8_t> src(n);
  for (uint8_t& b : src) b = static_cast<uint8_t>(rng());
  DeviceBuffer buf(n, "round-trip bytes");
  EXPECT_EQ(buf.size(), n);
  buf.fill_u8(0xAB);
  buf.upload(src.data(), n);
  std::vector<uint8_t> back(n, 0xCD);
  buf.download(back.data(), n);
  EXPECT_EQ(back, src);

  // A window at an offset lands exactly there.
  std::vector<uint8_t> window(100, 0x5A);
  buf.upload(window.data(), window.size(), 1000);
  std::vector<uint8_t> got(300, 0);
  buf.download(got.data(), got.size(), 900);
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_EQ(got[i], (i >= 100 && i < 200) ? 0x5A : src[900 + i]) << i;

  std::string msg = error_of([&] { buf.upload(src.data(), 2, n - 1); });
  EXPECT_NE(msg.find("round-trip bytes"), std::string::npos) << msg;
  msg = error_of([&] { buf.download(back.data(), 1, n); });
  EXPECT_NE(msg.find("round-trip bytes"), std::string::npos) << msg;

  DeviceBuffer empty(0, "empty");
  EXPECT_EQ(empty.ptr(), 0u);
  empty.fill_u32(7);
}

TEST(CudaRuntimeGpu, CompiledKernelComputesOnDevice) {
  SKIP_WITHOUT_GPU();
  context();
  const int n = (1 << 20) + 3;
  std::vector<float> b = random_floats(n, std::random_device{}());
  for (bool from_ptx : {false, true}) {
    Module m = load_kernels(from_ptx);
    DeviceBuffer da(n * sizeof(float), "a"), db(n * sizeof(float), "b");
    db.upload(b.data(), n * sizeof(float));
    da.fill_u32(0x7fc00001u);  // NaN poison: an unwritten element cannot pass
    Stream s;
    DevicePtr pa = da.ptr(), pb = db.ptr();
    int nn = n;
    void* args[] = {&pa, &pb, &nn};
    launch(m.function("scale_add_index"), dims_for(n), s.get(), args, "scale_add_index");
    s.sync("running scale_add_index");
    std::vector<float> a(n);
    da.download(a.data(), n * sizeof(float));
    for (int i = 0; i < n; ++i)
      ASSERT_EQ(a[i], b[i] * 2.0f + static_cast<float>(i)) << "i=" << i << " ptx=" << from_ptx;
  }
}

TEST(CudaRuntimeGpu, ModuleLookupsAndKernelAttributes) {
  SKIP_WITHOUT_GPU();
  context();
  Module m = load_kernels();
  size_t bytes = 0;
  EXPECT_NE(m.global("brickc_table", &bytes), 0u);
  EXPECT_EQ(bytes, 4 * sizeof(int));
  std::string msg = error_of([&] { m.function("no_such_kernel"); });
  EXPECT_NE(msg.find("no_such_kernel"), std::string::npos) << msg;
  EXPECT_NE(msg.find("runtime_test.cu"), std::string::npos) << msg;
  msg = error_of([&] { m.global("no_such_global"); });
  EXPECT_NE(msg.find("no_such_global"), std::string::npos) << msg;

  Function f = m.function("accumulate");
  EXPECT_GT(num_regs(f), 0);
  EXPECT_GE(max_active_blocks_per_sm(f, 256, 0), 1);
  set_max_dynamic_smem(f, 64 * 1024);

  msg = error_of([] { Module::load("this is not ptx", "garbage.ptx"); });
  EXPECT_NE(msg.find("garbage.ptx"), std::string::npos) << msg;
}

// Three launches of `accumulate` (k = 1, 2, 3), ten times: eagerly, then as a captured
// graph replayed ten times; both must equal the same recurrence computed on the host.
TEST(CudaRuntimeGpu, GraphReplayMatchesEagerLaunches) {
  SKIP_WITHOUT_GPU();
  context();
  Module m = load_kernels();
  const int n = 50000;
  std::vector<float> b = random_floats(n, std::random_device{}());
  DeviceBuffer acc(n * sizeof(float), "acc"), db(n * sizeof(float), "b");
  db.upload(b.data(), n * sizeof(float));
  Stream s;
  DevicePtr pacc = acc.ptr(), pb = db.ptr();
  int nn = n;
  float ks[3] = {1.0f, 2.0f, 3.0f};
  void* args[3][4] = {
      {&pacc, &pb, &ks[0], &nn}, {&pacc, &pb, &ks[1], &nn}, {&pacc, &pb, &ks[2], &nn}};
  Function f = m.function("accumulate"), f_pdl = m.function("accumulate_pdl");
  auto enqueue = [&] {
    for (int j = 0; j < 3; ++j)
      launch(j == 0 ? f : f_pdl, dims_for(n), s.get(), args[j], "accumulate",
             j > 0 ? LaunchMode::kProgrammaticDependency : LaunchMode::kPlain);
  };

  acc.fill_u32(0);
  for (int r = 0; r < 10; ++r) enqueue();
  s.sync("eager accumulate");
  std::vector<float> eager(n);
  acc.download(eager.data(), n * sizeof(float));

  Graph g = Graph::capture(s, enqueue);
  EXPECT_EQ(g.node_count(), 3u);
  acc.fill_u32(0);
  for (int r = 0; r < 10; ++r) g.launch(s);
  s.sync("graph accumulate");
  std::vector<float> replayed(n, NAN);
  acc.download(replayed.data(), n * sizeof(float));

  for (int i = 0; i < n; ++i) {
    float want = 0;
    for (int r = 0; r < 10; ++r)
      for (float k : ks) want = want * 0.5f + b[i] + k;
    ASSERT_EQ(eager[i], replayed[i]) << i;
    ASSERT_NEAR(eager[i], want, 1e-5f * (1.0f + std::fabs(want))) << i;
  }
}

TEST(CudaRuntimeGpu, EventsTimeAKernel) {
  SKIP_WITHOUT_GPU();
  context();
  Module m = load_kernels();
  DeviceBuffer out(4 * sizeof(int), "spin flags");
  Stream s;
  Event start, stop;
  unsigned long long cycles = 2'000'000;  // ~1 ms at GPU clocks
  DevicePtr p = out.ptr();
  void* args[] = {&cycles, &p};
  start.record(s);
  LaunchDims d;
  d.grid[0] = 4;
  d.block[0] = 32;
  launch(m.function("spin"), d, s.get(), args, "spin");
  stop.record(s);
  stop.sync();
  float ms = Event::elapsed_ms(start, stop);
  EXPECT_GT(ms, 0.0f);
  EXPECT_LT(ms, 10000.0f);
}

TEST(CudaRuntimeGpu, OutOfMemoryNamesTheBufferAndTheFreeMemory) {
  SKIP_WITHOUT_GPU();
  context();
  std::string msg = error_of([] { DeviceBuffer huge(size_t{1} << 50, "a 1 PiB test tensor"); });
  EXPECT_NE(msg.find("out of GPU memory"), std::string::npos) << msg;
  EXPECT_NE(msg.find("a 1 PiB test tensor"), std::string::npos) << msg;
  EXPECT_NE(msg.find("free of"), std::string::npos) << msg;
  EXPECT_NE(msg.find(context().info().name), std::string::npos) << msg;
  DeviceBuffer fine(1024, "after the failure");  // the context survives an allocation failure
}

// A fault kills the context, so it runs in a fresh process (threadsafe style re-executes
// the test binary rather than forking a process that already initialized CUDA).
TEST(CudaRuntimeGpuDeathTest, KernelFaultSurfacesAtSyncNamingWhatWasAwaited) {
  SKIP_WITHOUT_GPU();
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        try {
          Context c(0);
          Module m = load_kernels();
          Stream s;
          DevicePtr null = 0;
          void* args[] = {&null};
          LaunchDims d;
          d.block[0] = 32;
          launch(m.function("write_null"), d, s.get(), args, "write_null");
          s.sync("running write_null");
        } catch (const Error& e) {
          std::fprintf(stderr, "%s\n", e.what());
          std::_Exit(3);
        }
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(3), "CUDA error while running write_null: CUDA_ERROR_[A-Z_]+ \\(");
}

}  // namespace
}  // namespace brickc::cuda
