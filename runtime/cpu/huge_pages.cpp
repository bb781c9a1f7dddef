#include "runtime/cpu/huge_pages.h"

#include <sys/mman.h>

namespace brickc::cpu {

void* alloc_huge(size_t bytes) {
  constexpr size_t kHugePage = size_t{2} << 20;
  const size_t size = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = std::aligned_alloc(kHugePage, size == 0 ? kHugePage : size);
  if (p) ::madvise(p, size, MADV_HUGEPAGE);
  return p;
}

}  // namespace brickc::cpu
