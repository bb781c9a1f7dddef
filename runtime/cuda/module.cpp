#include "runtime/cuda/module.h"

#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <utility>

#include "ir/error.h"
#include "runtime/cuda/api.h"

namespace brickc::cuda {
namespace {

std::string until_nul(const char* buf, size_t cap) { return std::string(buf, strnlen(buf, cap)); }

}  // namespace

Module Module::load(std::string_view image, std::string_view name) {
  const DriverApi& api = driver();
  if (image.empty()) fail("cannot load CUDA module {}: the image is empty", name);
  // PTX must reach the driver NUL-terminated; a cubin is passed as is.
  const bool elf = image.starts_with("\177ELF");
  std::string ptx;
  const void* data = image.data();
  if (!elf) {
    ptx.assign(image);
    data = ptx.c_str();
  }
  constexpr size_t kLog = 16 * 1024;
  std::string info(kLog, '\0'), error(kLog, '\0');
  CUjit_option opts[] = {CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES,
                         CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void* values[] = {info.data(), reinterpret_cast<void*>(static_cast<uintptr_t>(kLog)),
                    error.data(), reinterpret_cast<void*>(static_cast<uintptr_t>(kLog))};
  CUmodule mod = nullptr;
  CUresult r = api.cuModuleLoadDataEx(&mod, data, 4, opts, values);
  if (r != CUDA_SUCCESS) {
    std::string log = until_nul(error.data(), kLog);
    fail("loading CUDA module {} ({}) failed: {}{}{}", name, elf ? "cubin" : "PTX", describe(r),
         log.empty() ? "" : "\n", log);
  }
  Module m;
  m.mod_ = mod;
  m.name_ = name;
  return m;
}

Module::~Module() { release(); }

Module::Module(Module&& o) noexcept
    : mod_(std::exchange(o.mod_, nullptr)), name_(std::move(o.name_)) {}

Module& Module::operator=(Module&& o) noexcept {
  if (this != &o) {
    release();
    mod_ = std::exchange(o.mod_, nullptr);
    name_ = std::move(o.name_);
  }
  return *this;
}

void Module::release() noexcept {
  if (mod_) driver().cuModuleUnload(mod_);
  mod_ = nullptr;
}

Function Module::function(std::string_view kernel) const {
  if (!mod_) fail("kernel {} requested from an empty module", kernel);
  CUfunction f = nullptr;
  std::string k(kernel);
  CUresult r = driver().cuModuleGetFunction(&f, mod_, k.c_str());
  if (r == CUDA_ERROR_NOT_FOUND)
    fail("kernel {} not found in CUDA module {} (is it extern \"C\" __global__?)", kernel, name_);
  check(r, fmt::format("cuModuleGetFunction({}) in module {}", kernel, name_));
  return f;
}

DevicePtr Module::global(std::string_view name, size_t* bytes) const {
  if (!mod_) fail("global {} requested from an empty module", name);
  CUdeviceptr p = 0;
  size_t n = 0;
  std::string g(name);
  CUresult r = driver().cuModuleGetGlobal(&p, &n, mod_, g.c_str());
  if (r == CUDA_ERROR_NOT_FOUND)
    fail("__device__ variable {} not found in CUDA module {}", name, name_);
  check(r, fmt::format("cuModuleGetGlobal({}) in module {}", name, name_));
  if (bytes) *bytes = n;
  return p;
}

void set_max_dynamic_smem(Function f, int bytes) {
  check(driver().cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
        fmt::format("cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES = {})", bytes));
}

int max_active_blocks_per_sm(Function f, int block, size_t smem) {
  int n = 0;
  check(driver().cuOccupancyMaxActiveBlocksPerMultiprocessor(&n, f, block, smem),
        fmt::format("cuOccupancyMaxActiveBlocksPerMultiprocessor(block {}, smem {})", block, smem));
  return n;
}

int num_regs(Function f) {
  int n = 0;
  check(driver().cuFuncGetAttribute(&n, CU_FUNC_ATTRIBUTE_NUM_REGS, f),
        "cuFuncGetAttribute(NUM_REGS)");
  return n;
}

}  // namespace brickc::cuda
