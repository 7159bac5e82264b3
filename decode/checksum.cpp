// SPDX-License-Identifier: GPL-2.0-only
// Chunk checksum dispatch: the distribution's libxxhash is built for baseline x86-64
// (SSE2); on CPUs with AVX2 an inlined AVX2 XXH3 (checksum_avx2.cpp) is ~3x faster,
// which matters because every byte of a .gvt replay goes through it.
#include <xxhash.h>

#include "decode/gvt_format.h"

namespace gvt::gvtf {

#if defined(__x86_64__)
uint64_t xxh3_avx2(const void* data, size_t n, uint64_t seed);  // checksum_avx2.cpp
#endif

namespace {

uint64_t xxh3_lib(const void* data, size_t n, uint64_t seed) { return XXH3_64bits_withSeed(data, n, seed); }

using HashFn = uint64_t (*)(const void*, size_t, uint64_t);

HashFn pick() {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) return xxh3_avx2;
#endif
  return xxh3_lib;
}

}  // namespace

uint64_t chunk_checksum(const void* data, size_t n, uint64_t seed) {
  static const HashFn fn = pick();
  return fn(data, n, seed);
}

}  // namespace gvt::gvtf
