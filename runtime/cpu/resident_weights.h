// Weight matrices copied out of the file mapping into anonymous memory on 2 MiB pages, for
// the int8 engine. Decode streams every matrix once per token; from 4 KiB file pages that
// is a TLB miss per 4 KiB, which cost the 1.5B 7 % of its decode rate on 2 cores
// (measured: 30.1 -> 32.2 tok/s). One store is shared by a model's decode and prompt
// executors, so each tensor is copied once. Where this processor's kernels have a repacked
// layout for a matrix's format (simd/rows8.h), the copy is in that layout instead.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "frontend/gguf/reader.h"

namespace brickc::cpu {

class ResidentWeights {
 public:
  struct Copy {
    const uint8_t* data = nullptr;
    bool rows8 = false;  // repacked (simd/rows8.h) rather than t's GGUF bytes
  };
  // Tensor t's bytes or its repacked rows, copied at the first request. Fails, naming the
  // tensor, when memory runs out.
  Copy get(const gguf::TensorInfo& t);

 private:
  struct Free {
    void operator()(uint8_t* p) const;
  };
  std::map<std::string, std::pair<std::unique_ptr<uint8_t, Free>, bool>> copies_;
};

}  // namespace brickc::cpu
