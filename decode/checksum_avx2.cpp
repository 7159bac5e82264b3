// SPDX-License-Identifier: GPL-2.0-only
// XXH3-64 compiled for AVX2, inlined from xxhash.h. Only this translation unit is
// built for AVX2 (pragmas below) and checksum.cpp calls it only when the CPU has it.
// The result is the same XXH3-64 value as libxxhash computes.
#if defined(__x86_64__)
#include <cstddef>
#include <cstdint>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2")
#endif
#include <immintrin.h>
#define XXH_INLINE_ALL
#define XXH_VECTOR XXH_AVX2
#include <xxhash.h>

namespace gvt::gvtf {
uint64_t xxh3_avx2(const void* data, size_t n, uint64_t seed) { return XXH3_64bits_withSeed(data, n, seed); }
}  // namespace gvt::gvtf

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
