// SPDX-License-Identifier: GPL-2.0-only
// Constants and byte layout of the binary .gvt trace format. decode/GVT-FORMAT.md is
// the normative description; keep both in step.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace gvt::gvtf {

// PNG-style magic: a high byte (not text), "GVT", CR LF (catches newline mangling),
// ^Z, LF. Its first byte can never start a JSON Lines trace.
inline constexpr uint8_t kMagic[8] = {0x89, 'G', 'V', 'T', '\r', '\n', 0x1a, '\n'};
inline constexpr uint16_t kMajor = 1;
inline constexpr uint16_t kMinor = 0;
inline constexpr size_t kFileHeaderSize = 16;

inline constexpr uint32_t kChunkMagic = 0x4b435647;  // "GVCK" little-endian
inline constexpr size_t kChunkHeaderSize = 24;
inline constexpr size_t kChunkTarget = 64 * 1024;           // writer closes a chunk here
inline constexpr size_t kMaxChunkPayload = 64 * 1024 * 1024;  // readers reject larger

// Chunk checksum seed binds the payload to its header's record count and sequence
// number, so a stale or shuffled chunk fails the check too.
constexpr uint64_t chunk_seed(uint32_t records, uint32_t seq) {
  return (static_cast<uint64_t>(records) << 32) | seq;
}

enum Kind : uint8_t {
  K_EVENT = 1,
  K_LOST = 2,
  K_STACK = 3,
  K_FOOTER = 4,
  K_HEADER = 5,
  K_STRDEF = 6,
  K_OPAQUE = 7,
};

// Fixed part of each record kind (bytes), before its variable part.
inline constexpr size_t kEventFixed = 4;    // then the optional parts (GVT-FORMAT.md)
inline constexpr size_t kLostSize = 24;
inline constexpr size_t kStackFixed = 16;   // + 16 per frame
inline constexpr size_t kFrameSize = 16;
inline constexpr size_t kFooterSize = 32;
inline constexpr size_t kHeaderFixed = 8;   // + text
inline constexpr size_t kStrdefFixed = 12;  // + bytes
inline constexpr size_t kOpaqueFixed = 12;  // + type + json

// Every chunk payload ends with this many zero bytes after its last record, so an
// event decoder may load 8 bytes at any offset inside the records without a branch.
inline constexpr size_t kChunkPad = 8;

// Event flags, byte 2.
inline constexpr uint8_t kEvExit = 1u << 0;
inline constexpr uint8_t kEvHasCpu = 1u << 1;
inline constexpr unsigned kEvRetShift = 2;  // bits 2-4: RetKind
inline constexpr uint8_t kEvSameTask = 1u << 5;  // tid, pid, comm as the previous event
inline constexpr uint8_t kEvSameCpu = 1u << 6;   // cpu as the previous event with a cpu
inline constexpr uint8_t kEvTsLong = 1u << 7;    // u64 ts instead of a u32 delta
// Event flags, byte 3.
inline constexpr uint8_t kEvPresentSame = 1u << 0;  // present as the last (fn, phase) event
inline constexpr uint8_t kEvSmallSame = 1u << 1;    // small as the last (fn, phase) event
inline constexpr uint8_t kEvKnownFlags3 = 0x03;

// Lost / footer / opaque flag bits.
inline constexpr uint8_t kLostHasTs = 1, kLostHasCpu = 2;
inline constexpr uint8_t kFooterEvents = 1, kFooterLost = 2, kFooterDuration = 4;
inline constexpr uint8_t kOpaqueUnknownFn = 1;

// Field values are stored XOR the previous value of the same field, in 0, 2, 4 or 8
// bytes (2-bit code per present field).
inline constexpr uint8_t kCodeLen[4] = {0, 2, 4, 8};
inline constexpr uint64_t kCodeMask[4] = {0, 0xffff, 0xffffffff, ~0ull};
inline constexpr unsigned value_code(uint64_t x) {
  return x == 0 ? 0 : x <= 0xffff ? 1 : x <= 0xffffffff ? 2 : 3;
}
// Largest possible event record: fixed, present, small, ts, task, cpu, codes, values.
inline constexpr size_t kMaxEventSize = 4 + 4 + 4 + 8 + 12 + 4 + 8 + 8 * 32;

// What an event is delta-coded against. Both sides reset it at every chunk start,
// so each chunk decodes on its own (given the strings defined before it).
struct DeltaState {
  uint64_t prev[32];
  uint64_t ts;
  int32_t tid, pid;
  uint32_t comm, cpu;
  uint32_t present[256][2];  // by fn byte and phase
  uint32_t small[256][2];
  void reset() { *this = DeltaState{}; }
};

// Bits set in x, without relying on the POPCNT instruction (baseline x86-64 has
// none, and a libgcc call per event costs more than this).
constexpr unsigned popcount32(uint32_t x) {
  x = x - ((x >> 1) & 0x55555555u);
  x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
  return (((x + (x >> 4)) & 0x0f0f0f0fu) * 0x01010101u) >> 24;
}
static_assert(popcount32(0xffffffffu) == 32 && popcount32(0x80000001u) == 2);

// Chunk checksum: XXH3-64 with chunk_seed(); vectorised where the CPU allows.
uint64_t chunk_checksum(const void* data, size_t n, uint64_t seed);

// The format is little-endian; every host this tool traces (x86-64, arm64) is too.
static_assert(std::endian::native == std::endian::little, "port load/store to big-endian");

// Loads and stores through memcpy: no alignment assumptions, no aliasing UB.
template <typename T>
inline T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename T>
inline void store(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

}  // namespace gvt::gvtf
