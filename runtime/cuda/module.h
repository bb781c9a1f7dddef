// A loaded CUDA module (cubin or PTX from codegen/ptx) and the kernel attributes brickc
// tunes or reports: dynamic shared memory opt-in, occupancy, registers.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "runtime/cuda/handles.h"

namespace brickc::cuda {

class Module {
 public:
  Module() = default;
  // `image`: a cubin (ELF) or PTX text; the driver JIT-compiles PTX. Errors carry the JIT
  // log and name the module.
  static Module load(std::string_view image, std::string_view name);
  ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&& o) noexcept;
  Module& operator=(Module&& o) noexcept;

  Function function(std::string_view kernel) const;  // fail() naming kernel and module
  // Address of a __device__ variable; *bytes gets its size.
  DevicePtr global(std::string_view name, size_t* bytes = nullptr) const;
  const std::string& name() const { return name_; }
  ModuleHandle get() const { return mod_; }

 private:
  void release() noexcept;
  ModuleHandle mod_ = nullptr;
  std::string name_;
};

void set_max_dynamic_smem(Function f, int bytes);
int max_active_blocks_per_sm(Function f, int block, size_t smem);
int num_regs(Function f);

}  // namespace brickc::cuda
