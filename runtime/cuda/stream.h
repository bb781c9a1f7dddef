// Ordering work on the GPU: streams, kernel launches, CUDA graphs (a captured sequence of
// launches replayed with one call) and events for timing. Errors name the kernel or the
// step that was waiting, since asynchronous faults surface far from their cause.
#pragma once
#include <cstddef>
#include <functional>
#include <string_view>

#include "runtime/cuda/handles.h"

namespace brickc::cuda {

class Stream {
 public:
  Stream();  // non-blocking: does not synchronize with the legacy default stream
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  Stream(Stream&& o) noexcept;
  Stream& operator=(Stream&& o) noexcept;

  StreamHandle get() const { return s_; }
  // Waits for everything enqueued; a kernel fault surfaces here as
  // "CUDA error while <what>: CUDA_ERROR_... (...)".
  void sync(std::string_view what);

 private:
  void release() noexcept;
  StreamHandle s_ = nullptr;
};

struct LaunchDims {
  unsigned grid[3] = {1, 1, 1};
  unsigned block[3] = {1, 1, 1};
  unsigned smem = 0;  // dynamic shared memory, bytes
};

// How a kernel is launched. kProgrammaticDependency: it may start before the previous one
// in the stream ends (it must execute griddepcontrol.wait before reading that kernel's
// results). kCooperative: all its blocks are resident at once, or the launch fails (the
// megakernel's blocks wait on each other).
enum class LaunchMode { kPlain, kProgrammaticDependency, kCooperative };

// `args`: one pointer per kernel parameter, as cuLaunchKernel takes them.
void launch(Function f, const LaunchDims& d, StreamHandle s, void** args,
            std::string_view kernel_name, LaunchMode mode = LaunchMode::kPlain);

class Graph {
 public:
  Graph() = default;
  // Records what `enqueue` puts on `s` (nothing runs) and instantiates it.
  static Graph capture(Stream& s, const std::function<void()>& enqueue);
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  Graph(Graph&& o) noexcept;
  Graph& operator=(Graph&& o) noexcept;

  void launch(Stream& s);
  size_t node_count() const;

 private:
  void release() noexcept;
  GraphHandle graph_ = nullptr;
  GraphExecHandle exec_ = nullptr;
};

class Event {
 public:
  Event();  // with timing
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  Event(Event&& o) noexcept;
  Event& operator=(Event&& o) noexcept;

  void record(Stream& s);
  void sync();
  EventHandle get() const { return e_; }
  // Milliseconds from a to b; both must have been recorded and completed.
  static float elapsed_ms(const Event& a, const Event& b);

 private:
  void release() noexcept;
  EventHandle e_ = nullptr;
};

}  // namespace brickc::cuda
