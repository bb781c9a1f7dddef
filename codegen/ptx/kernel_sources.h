// The CUDA C++ kernel templates (codegen/ptx/kernels/*.cuh), embedded into the binary at
// build time so that NVRTC can compile them on a machine that has no source tree.
#pragma once
#include <cstddef>
#include <span>
#include <string_view>

namespace brickc::ptx {

struct KernelFile {
  std::string_view name;  // file name as #include-d by generated source, e.g. "common.cuh"
  std::string_view text;
};

std::span<const KernelFile> kernel_files();           // sorted by name
std::string_view kernel_file(std::string_view name);  // fail() naming the known files if unknown

namespace detail {
extern const KernelFile kEmbeddedKernels[];  // defined in the generated kernel_sources_data.cpp
extern const size_t kEmbeddedKernelCount;
}  // namespace detail

}  // namespace brickc::ptx
