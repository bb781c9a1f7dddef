#include "runtime/cuda/api.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include "ir/error.h"
#include "runtime/cuda/driver.h"

// Two steps, so that the versioned name a macro like cuMemAlloc stands for is stringized.
#define BRICKC_CUDA_STR2(x) #x
#define BRICKC_CUDA_STR(x) BRICKC_CUDA_STR2(x)

namespace brickc::cuda {
namespace {

struct Loaded {
  DriverApi api;
  std::string error;  // empty when every entry point resolved
};

Loaded load() {
  Loaded l;
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* e = dlerror();
    l.error = fmt::format("no NVIDIA driver: dlopen(libcuda.so.1) failed: {}", e ? e : "?");
    return l;
  }
  std::string missing;
#define BRICKC_CUDA_RESOLVE(fn)                                                     \
  l.api.fn = reinterpret_cast<decltype(l.api.fn)>(dlsym(lib, BRICKC_CUDA_STR(fn))); \
  if (!l.api.fn) missing += fmt::format("{}{}", missing.empty() ? "" : ", ", BRICKC_CUDA_STR(fn));
  BRICKC_CUDA_DRIVER_ENTRY_POINTS(BRICKC_CUDA_RESOLVE)
#undef BRICKC_CUDA_RESOLVE
  if (!missing.empty())
    l.error = fmt::format("libcuda.so.1 lacks {} (driver too old for CUDA {}.{} headers?)", missing,
                          CUDA_VERSION / 1000, CUDA_VERSION % 1000 / 10);
  return l;
}

const Loaded& loaded() {
  static const Loaded l = load();
  return l;
}

}  // namespace

const DriverApi* load_driver_api(std::string* why) {
  const Loaded& l = loaded();
  if (l.error.empty()) return &l.api;
  if (why) *why = l.error;
  return nullptr;
}

const DriverApi& driver() {
  const Probe& p = probe();
  if (!p.usable()) fail("CUDA is not usable: {}", p.why_unusable());
  return loaded().api;
}

std::string describe(CUresult r) {
  const DriverApi& api = loaded().api;
  const char* name = nullptr;
  const char* text = nullptr;
  if (!api.cuGetErrorName || api.cuGetErrorName(r, &name) != CUDA_SUCCESS || !name)
    return fmt::format("CUresult {}", static_cast<int>(r));
  if (api.cuGetErrorString(r, &text) != CUDA_SUCCESS || !text) return name;
  return fmt::format("{} ({})", name, text);
}

void check(CUresult r, std::string_view call) {
  if (r != CUDA_SUCCESS) fail("CUDA call {} failed: {}", call, describe(r));
}

}  // namespace brickc::cuda
