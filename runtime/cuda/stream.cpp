#include "runtime/cuda/stream.h"

#include <fmt/format.h>

#include <utility>

#include "ir/error.h"
#include "runtime/cuda/api.h"

namespace brickc::cuda {

Stream::Stream() {
  CUstream s = nullptr;
  check(driver().cuStreamCreate(&s, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
  s_ = s;
}

Stream::~Stream() { release(); }

Stream::Stream(Stream&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}

Stream& Stream::operator=(Stream&& o) noexcept {
  if (this != &o) {
    release();
    s_ = std::exchange(o.s_, nullptr);
  }
  return *this;
}

void Stream::release() noexcept {
  if (s_) driver().cuStreamDestroy(s_);
  s_ = nullptr;
}

void Stream::sync(std::string_view what) {
  if (CUresult r = driver().cuStreamSynchronize(s_); r != CUDA_SUCCESS)
    fail("CUDA error while {}: {}", what, describe(r));
}

void launch(Function f, const LaunchDims& d, StreamHandle s, void** args,
            std::string_view kernel_name, LaunchMode mode) {
  CUlaunchAttribute attr{};
  if (mode == LaunchMode::kCooperative) {
    attr.id = CU_LAUNCH_ATTRIBUTE_COOPERATIVE;
    attr.value.cooperative = 1;
  } else {
    attr.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
    attr.value.programmaticStreamSerializationAllowed = 1;
  }
  CUlaunchConfig cfg{};
  cfg.gridDimX = d.grid[0];
  cfg.gridDimY = d.grid[1];
  cfg.gridDimZ = d.grid[2];
  cfg.blockDimX = d.block[0];
  cfg.blockDimY = d.block[1];
  cfg.blockDimZ = d.block[2];
  cfg.sharedMemBytes = d.smem;
  cfg.hStream = s;
  cfg.attrs = mode == LaunchMode::kPlain ? nullptr : &attr;
  cfg.numAttrs = mode == LaunchMode::kPlain ? 0 : 1;
  if (CUresult r = driver().cuLaunchKernelEx(&cfg, f, args, nullptr); r != CUDA_SUCCESS)
    fail(
        "launching kernel {} (grid {}x{}x{}, block {}x{}x{}, {} B dynamic shared memory{}) "
        "failed: {}",
        kernel_name, d.grid[0], d.grid[1], d.grid[2], d.block[0], d.block[1], d.block[2], d.smem,
        mode == LaunchMode::kProgrammaticDependency ? ", programmatic dependency"
        : mode == LaunchMode::kCooperative         ? ", cooperative"
                                                   : "",
        describe(r));
}

Graph Graph::capture(Stream& s, const std::function<void()>& enqueue) {
  const DriverApi& api = driver();
  // Thread-local mode: other threads' unrelated CUDA calls do not invalidate the capture.
  check(api.cuStreamBeginCapture(s.get(), CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
        "cuStreamBeginCapture");
  Graph g;
  try {
    enqueue();
  } catch (...) {
    CUgraph partial = nullptr;
    if (api.cuStreamEndCapture(s.get(), &partial) == CUDA_SUCCESS && partial)
      api.cuGraphDestroy(partial);
    throw;
  }
  CUgraph graph = nullptr;
  check(api.cuStreamEndCapture(s.get(), &graph), "cuStreamEndCapture");
  g.graph_ = graph;
  CUgraphExec exec = nullptr;
  check(api.cuGraphInstantiateWithFlags(&exec, graph, 0),
        fmt::format("cuGraphInstantiate of a {}-node graph", g.node_count()));
  g.exec_ = exec;
  return g;
}

Graph::~Graph() { release(); }

Graph::Graph(Graph&& o) noexcept
    : graph_(std::exchange(o.graph_, nullptr)), exec_(std::exchange(o.exec_, nullptr)) {}

Graph& Graph::operator=(Graph&& o) noexcept {
  if (this != &o) {
    release();
    graph_ = std::exchange(o.graph_, nullptr);
    exec_ = std::exchange(o.exec_, nullptr);
  }
  return *this;
}

void Graph::release() noexcept {
  if (exec_) driver().cuGraphExecDestroy(exec_);
  if (graph_) driver().cuGraphDestroy(graph_);
  exec_ = nullptr;
  graph_ = nullptr;
}

void Graph::launch(Stream& s) {
  if (!exec_) fail("launching an empty CUDA graph");
  check(driver().cuGraphLaunch(exec_, s.get()), "cuGraphLaunch");
}

size_t Graph::node_count() const {
  if (!graph_) return 0;
  size_t n = 0;
  check(driver().cuGraphGetNodes(graph_, nullptr, &n), "cuGraphGetNodes");
  return n;
}

Event::Event() {
  CUevent e = nullptr;
  check(driver().cuEventCreate(&e, CU_EVENT_DEFAULT), "cuEventCreate");
  e_ = e;
}

Event::~Event() { release(); }

Event::Event(Event&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}

Event& Event::operator=(Event&& o) noexcept {
  if (this != &o) {
    release();
    e_ = std::exchange(o.e_, nullptr);
  }
  return *this;
}

void Event::release() noexcept {
  if (e_) driver().cuEventDestroy(e_);
  e_ = nullptr;
}

void Event::record(Stream& s) { check(driver().cuEventRecord(e_, s.get()), "cuEventRecord"); }

void Event::sync() {
  if (CUresult r = driver().cuEventSynchronize(e_); r != CUDA_SUCCESS)
    fail("CUDA error while waiting for an event: {}", describe(r));
}

float Event::elapsed_ms(const Event& a, const Event& b) {
  float ms = 0;
  check(driver().cuEventElapsedTime(&ms, a.e_, b.e_), "cuEventElapsedTime");
  return ms;
}

}  // namespace brickc::cuda
