#include "runtime/cuda/api.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <link.h>

#include "ir/error.h"
#include "runtime/cuda/driver.h"

namespace brickc::cuda {
namespace {

struct Loaded {
  DriverApi api;
  std::string library;  // the file dlopen found
  std::string error;    // empty when every entry point resolved
};

Loaded load() {
  Loaded l;
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* e = dlerror();
    l.error = fmt::format("no NVIDIA driver: dlopen(libcuda.so.1) failed: {}", e ? e : "?");
    return l;
  }
  if (link_map* m = nullptr; dlinfo(lib, RTLD_DI_LINKMAP, &m) == 0 && m) l.library = m->l_name;
  std::string missing;
#define BRICKC_CUDA_RESOLVE(name, symbol, ...)                                   \
  l.api.name = reinterpret_cast<decltype(l.api.name)>(dlsym(lib, #symbol));     \
  if (!l.api.name) missing += fmt::format("{}{}", missing.empty() ? "" : ", ", #symbol);
  BRICKC_CUDA_DRIVER_ENTRY_POINTS(BRICKC_CUDA_RESOLVE)
#undef BRICKC_CUDA_RESOLVE
  if (!missing.empty())
    l.error = fmt::format("libcuda.so.1 lacks {}: brickc needs a driver for CUDA 12 or newer",
                          missing);
  return l;
}

const Loaded& loaded() {
  static const Loaded l = load();
  return l;
}

}  // namespace

const DriverApi* load_driver_api(std::string* why, std::string* library) {
  const Loaded& l = loaded();
  if (library) *library = l.library;
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
