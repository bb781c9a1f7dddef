// NVRTC, loaded with dlopen on first use: compiles generated CUDA C++ (which may #include
// the embedded kernel templates) to PTX and, for a real architecture, a cubin.
// Not the disk cache (module_cache.h) and not module loading (runtime/cuda/module.h).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace brickc::ptx {

struct NvrtcVersion {
  int major = 0, minor = 0;
  std::string library;  // the file dlopen found, e.g. /usr/local/cuda/lib64/libnvrtc.so.13
};
NvrtcVersion nvrtc_version();  // fail() saying why when NVRTC cannot be loaded

struct CompileOptions {
  std::string arch = "sm_90";  // sm_XX or sm_XXa; PTX is made for the matching compute_XX
  bool want_cubin = true;
  std::vector<std::string> extra;  // further NVRTC options, e.g. "-lineinfo", "-DTILE=4"
};

struct Compiled {
  std::string ptx;
  std::string cubin;  // empty unless want_cubin
  std::string log;    // NVRTC's warnings, if any
};

// Compiles `source`; every kernel_files() entry is available to #include by name.
// On failure the Error carries NVRTC's log and the numbered source lines around the first
// error, from the generated source or the header it points into.
Compiled compile(std::string_view source, std::string_view name, const CompileOptions& o);

// The options compile() passes to NVRTC for `o`, in order (also part of the cache key).
std::vector<std::string> nvrtc_options(const CompileOptions& o, bool for_cubin);

}  // namespace brickc::ptx
