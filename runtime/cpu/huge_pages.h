// Memory that the CPU engine streams every step (weights, KV caches) on 2 MiB pages where
// the kernel grants them: from 4 KiB pages, every 4 KiB read is a TLB miss.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>

namespace brickc::cpu {

// `bytes` rounded up to whole 2 MiB pages, aligned to one, advised as huge (MADV_HUGEPAGE:
// advice only; where transparent huge pages are off it is plain memory). Null when memory
// runs out. Freed with std::free.
void* alloc_huge(size_t bytes);

// An allocator of alloc_huge memory, for std::vector.
template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}
  T* allocate(size_t n) {
    void* p = alloc_huge(n * sizeof(T));
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) { std::free(p); }
  bool operator==(const HugePageAllocator&) const = default;
};

}  // namespace brickc::cpu
