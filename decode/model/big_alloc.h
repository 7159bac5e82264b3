// SPDX-License-Identifier: GPL-2.0-only
// An allocator for the model's big tables (the lifecycle index and slots, the VA and
// registration maps): blocks of 2 MiB and more are mapped on their own and offered to
// transparent huge pages. With 100 k live vm_bos these tables span tens of MiB touched
// at random, one event at a time: with 4 KiB pages nearly every lookup also missed the
// TLB, and first-touch page faults (one per 4 KiB as a table grows) were a sixth of
// lint's CPU time in a VM. Smaller blocks come from the ordinary heap.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>
#include <memory>
#include <new>

#include <tsl/robin_map.h>

namespace gvt::model {

inline constexpr size_t kHugePage = size_t{2} << 20;

inline size_t big_round(size_t bytes) { return (bytes + kHugePage - 1) & ~(kHugePage - 1); }

// Anonymous, zero-filled memory of `bytes` (rounded up to 2 MiB) on a 2 MiB boundary
// (huge pages only cover aligned 2 MiB ranges), huge pages asked for.
inline void* big_map(size_t bytes) {
  bytes = big_round(bytes);
  void* m = mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  auto start = reinterpret_cast<uintptr_t>(m);
  uintptr_t aligned = (start + kHugePage - 1) & ~(uintptr_t{kHugePage} - 1);
  if (aligned > start) munmap(m, aligned - start);
  if (uintptr_t end = start + bytes + kHugePage; end > aligned + bytes)
    munmap(reinterpret_cast<void*>(aligned + bytes), end - (aligned + bytes));
  void* p = reinterpret_cast<void*>(aligned);
  // A hint: without THP (or with it disabled) the block just uses small pages.
  madvise(p, bytes, MADV_HUGEPAGE);
  return p;
}
inline void big_unmap(void* p, size_t bytes) { munmap(p, big_round(bytes)); }

// std::allocator_traits-compatible; robin_map's bucket arrays are what it allocates.
template <class T>
struct BigAlloc {
  using value_type = T;
  BigAlloc() = default;
  template <class U> BigAlloc(const BigAlloc<U>&) noexcept {}
  T* allocate(size_t n) {
    if (n * sizeof(T) < kHugePage) return std::allocator<T>().allocate(n);
    return static_cast<T*>(big_map(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) noexcept {
    if (n * sizeof(T) < kHugePage)
      std::allocator<T>().deallocate(p, n);
    else
      big_unmap(p, n * sizeof(T));
  }
  template <class U> bool operator==(const BigAlloc<U>&) const noexcept { return true; }
};

// A robin_map whose bucket array, once 2 MiB or more, is a huge-page block.
template <class K, class V, class Hash>
using BigMap = tsl::robin_map<K, V, Hash, std::equal_to<K>, BigAlloc<std::pair<K, V>>>;

}  // namespace gvt::model
