#include "runtime/cpu/resident_weights.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "ir/error.h"

namespace brickc::cpu {

void ResidentWeights::Free::operator()(uint8_t* p) const { std::free(p); }

const uint8_t* ResidentWeights::get(const gguf::TensorInfo& t) {
  auto& copy = copies_[t.name];
  if (copy) return copy.get();
  constexpr size_t kHugePage = size_t{2} << 20;
  const size_t size = (t.nbytes + kHugePage - 1) / kHugePage * kHugePage;
  auto* p = static_cast<uint8_t*>(std::aligned_alloc(kHugePage, size));
  if (!p)
    fail("out of memory: {} bytes for a resident copy of tensor {} (the int8 engine's weights)",
         size, t.name);
  // Advice only: where transparent huge pages are off, the copy still runs, on small pages.
  ::madvise(p, size, MADV_HUGEPAGE);
  std::memcpy(p, t.data, t.nbytes);
  copy.reset(p);
  // The mapped pages just read are not needed again (a later reader refaults them from
  // the file): released, so that the process does not hold the weights twice.
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<uintptr_t>(t.data) + page - 1) / page * page;
  const auto end = (reinterpret_cast<uintptr_t>(t.data) + t.nbytes) / page * page;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
  return p;
}

}  // namespace brickc::cpu
