// NVRTC output cached on disk, keyed by a hash of everything that determines it: source,
// embedded headers, options, NVRTC version and the device (driver version, name, arch).
// A broken or unwritable cache only costs a compile; it is never an error.
#pragma once
#include <string>
#include <string_view>

#include "codegen/ptx/nvrtc.h"

namespace brickc::ptx {

// device_tag: driver version, device name and arch, built by the caller (runtime/cuda).
// *hit says whether the result came from the cache.
Compiled compile_cached(std::string_view source, std::string_view name, const CompileOptions& o,
                        std::string_view device_tag, bool* hit = nullptr);

// $BRICKC_CACHE_DIR, else $XDG_CACHE_HOME/brickc/kernels, else $HOME/.cache/brickc/kernels;
// empty when none is set or BRICKC_NO_KERNEL_CACHE is set (and not "0").
std::string kernel_cache_dir();

// 32 hex digits (128-bit FNV-1a), stable across runs and machines; the entry's file name.
std::string kernel_cache_key(std::string_view source, std::string_view name,
                             const CompileOptions& o, std::string_view device_tag);

}  // namespace brickc::ptx
