#include "runtime/cpu/resident_weights.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "ir/error.h"
#include "runtime/cpu/huge_pages.h"
#include "runtime/cpu/simd/rows8.h"

namespace brickc::cpu {

void ResidentWeights::Free::operator()(uint8_t* p) const { std::free(p); }

ResidentWeights::Copy ResidentWeights::get(const gguf::TensorInfo& t) {
  auto& [copy, rows8] = copies_[t.name];
  if (copy) return {copy.get(), rows8};
  const bool repackable = t.ne.size() == 2 && simd::rows8_kernel(t.type, simd::best_isa());
  const uint64_t packed = repackable ? simd::rows8_bytes(t.type, t.n_rows(), t.ne[0]) : 0;
  rows8 = packed != 0;
  const uint64_t size = rows8 ? packed : t.nbytes;
  auto* p = static_cast<uint8_t*>(alloc_huge(size));
  if (!p)
    fail("out of memory: {} bytes for a resident copy of tensor {} (the int8 engine's weights)",
         size, t.name);
  if (rows8)
    simd::repack_rows8(t.type, t.data, t.n_rows(), t.ne[0], p);
  else
    std::memcpy(p, t.data, t.nbytes);
  copy.reset(p);
  // The mapped pages just read are not needed again (a later reader refaults them from
  // the file): released, so that the process does not hold the weights twice.
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<uintptr_t>(t.data) + page - 1) / page * page;
  const auto end = (reinterpret_cast<uintptr_t>(t.data) + t.nbytes) / page * page;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
  return {p, rows8};
}

}  // namespace brickc::cpu
