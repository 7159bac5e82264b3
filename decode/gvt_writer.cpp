// SPDX-License-Identifier: GPL-2.0-only
// .gvt writer (decode/GVT-FORMAT.md): records are appended to one chunk buffer that
// goes to the file with a single write() once it holds ~64 KiB, or on flush().
#include <bit>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "decode/gvt_format.h"
#include "decode/json_keys.h"
#include "decode/json_text.h"
#include "decode/output_file.h"
#include "decode/writers.h"

namespace gvt {
namespace {

using namespace gvtf;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class GvtWriter final : public TraceWriter {
 public:
  explicit GvtWriter(const std::string& path) : out_(path) {
    uint8_t fh[kFileHeaderSize] = {};
    std::memcpy(fh, kMagic, sizeof kMagic);
    store<uint16_t>(fh + 8, kMajor);
    store<uint16_t>(fh + 10, kMinor);
    out_.write_all(fh, sizeof fh);
    buf_.reserve(kChunkHeaderSize + kChunkTarget + 4096);
    buf_.resize(kChunkHeaderSize);
  }
  ~GvtWriter() override {
    try {
      close();
    } catch (...) {
      // A destructor cannot report; callers who care call close() themselves.
    }
  }

  void on_header(const Header& h) override {
    scratch_.clear();
    json::append_header(scratch_, h);
    uint8_t* p = grow(kHeaderFixed + scratch_.size());
    p[0] = K_HEADER;
    store<uint32_t>(p + 4, static_cast<uint32_t>(scratch_.size()));
    std::memcpy(p + kHeaderFixed, scratch_.data(), scratch_.size());
    ++records_;
    // The header alone makes a readable file: get it to disk before any event.
    emit_chunk();
  }

  void on_event(const Event& e) override {
    ++events_;
    // Strings first: a STRDEF must precede the record that uses it.
    uint32_t comm = string_id(e.comm);
    uint32_t present = e.present & ((1u << FIELD_COUNT_) - 1);
    uint32_t ids[3] = {};
    if (present & json::kStringFields) {
      if (present & bit(A_NAME)) ids[0] = string_id(e.name);
      if (present & bit(S_VM_NAME)) ids[1] = string_id(e.vm_name);
      if (present & bit(SYMBOL)) ids[2] = string_id(e.symbol);
    }
    uint8_t* p = grow(kMaxEventSize);
    auto ret = static_cast<unsigned>(e.ret_kind);
    uint8_t fn = static_cast<uint8_t>(e.fn < Fn::count_ ? e.fn : Fn::unknown);
    unsigned ph = e.phase == Phase::exit;
    uint8_t fa = static_cast<uint8_t>((ph ? kEvExit : 0) | (e.has_cpu ? kEvHasCpu : 0) |
                                      ((ret <= static_cast<unsigned>(RetKind::integer) ? ret : 0) << kEvRetShift));
    uint8_t fb = 0;
    uint8_t* q = p + kEventFixed;
    if (st_.present[fn][ph] == present) {
      fb |= kEvPresentSame;
    } else {
      store<uint32_t>(q, present);
      q += 4;
      st_.present[fn][ph] = present;
    }
    uint32_t small = e.small & ((1u << (2 * SMALL_COUNT_)) - 1);
    if (st_.small[fn][ph] == small) {
      fb |= kEvSmallSame;
    } else {
      store<uint32_t>(q, small);
      q += 4;
      st_.small[fn][ph] = small;
    }
    if (e.ts >= st_.ts && e.ts - st_.ts <= 0xffffffffu) {
      store<uint32_t>(q, static_cast<uint32_t>(e.ts - st_.ts));
      q += 4;
    } else {  // first event of a chunk, a big gap, or a cross-CPU step back in time
      fa |= kEvTsLong;
      store<uint64_t>(q, e.ts);
      q += 8;
    }
    st_.ts = e.ts;
    if (e.tid == st_.tid && e.pid == st_.pid && comm == st_.comm) {
      fa |= kEvSameTask;
    } else {
      store<int32_t>(q, e.tid);
      store<int32_t>(q + 4, e.pid);
      store<uint32_t>(q + 8, comm);
      q += 12;
      st_.tid = e.tid;
      st_.pid = e.pid;
      st_.comm = comm;
    }
    if (e.has_cpu) {
      if (e.cpu == st_.cpu) {
        fa |= kEvSameCpu;
      } else {
        store<uint32_t>(q, e.cpu);
        q += 4;
        st_.cpu = e.cpu;
      }
    }
    p[0] = K_EVENT;
    p[1] = fn;
    p[2] = fa;
    p[3] = fb;
    // 2-bit codes, then each value XOR the previous value of its field.
    uint8_t* codes = q;
    size_t ncode = (2 * popcount32(present) + 7) / 8;
    std::memset(codes, 0, ncode);
    q += ncode;
    unsigned i = 0;
    for (uint32_t bits = present; bits; bits &= bits - 1, ++i) {
      unsigned f = static_cast<unsigned>(std::countr_zero(bits));
      uint64_t v = e.v[f];
      if (f == A_NAME) v = ids[0];
      else if (f == S_VM_NAME) v = ids[1];
      else if (f == SYMBOL) v = ids[2];
      uint64_t x = v ^ st_.prev[f];
      st_.prev[f] = v;
      unsigned c = value_code(x);
      codes[i / 4] |= static_cast<uint8_t>(c << (2 * (i % 4)));
      store<uint64_t>(q, x);  // room for 8 was reserved; only kCodeLen[c] bytes are kept
      q += kCodeLen[c];
    }
    buf_.resize(static_cast<size_t>(q - buf_.data()));
    record_done();
  }

  void on_lost(const Lost& l) override {
    uint8_t* p = grow(kLostSize);
    std::memset(p, 0, kLostSize);
    p[0] = K_LOST;
    p[1] = static_cast<uint8_t>((l.ts ? kLostHasTs : 0) | (l.cpu ? kLostHasCpu : 0));
    store<uint32_t>(p + 4, l.cpu.value_or(0));
    store<uint64_t>(p + 8, l.count);
    store<uint64_t>(p + 16, l.ts.value_or(0));
    record_done();
  }

  void on_stack(const StackRec& s) override {
    ids_scratch_.clear();
    for (const Frame& f : s.frames) {
      ids_scratch_.push_back(string_id(f.sym));
      ids_scratch_.push_back(string_id(f.module));
    }
    uint8_t* p = grow(kStackFixed + kFrameSize * s.frames.size());
    p[0] = K_STACK;
    p[1] = p[2] = p[3] = 0;
    store<uint32_t>(p + 4, static_cast<uint32_t>(s.frames.size()));
    store<uint64_t>(p + 8, s.id);
    uint8_t* f = p + kStackFixed;
    for (size_t i = 0; i < s.frames.size(); ++i) {
      store<uint64_t>(f, s.frames[i].addr);
      store<uint32_t>(f + 8, ids_scratch_[2 * i]);
      store<uint32_t>(f + 12, ids_scratch_[2 * i + 1]);
      f += kFrameSize;
    }
    record_done();
  }

  // The footer's event count describes this file: what was written, not what the
  // input claimed (--keep-going skipped lines, --salvage skipped chunks).
  void on_footer(const Footer& in) override {
    Footer ft = in;
    if (ft.events) ft.events = events_;
    uint8_t* p = grow(kFooterSize);
    std::memset(p, 0, kFooterSize);
    p[0] = K_FOOTER;
    p[1] = static_cast<uint8_t>((ft.events ? kFooterEvents : 0) | (ft.lost ? kFooterLost : 0) |
                                (ft.duration_ns ? kFooterDuration : 0));
    store<uint64_t>(p + 8, ft.events.value_or(0));
    store<uint64_t>(p + 16, ft.lost.value_or(0));
    store<uint64_t>(p + 24, ft.duration_ns.value_or(0));
    record_done();
  }

  void on_opaque(const Opaque& o) override {
    if (o.unknown_fn) ++events_;  // an event of a newer recorder: readers count it too
    uint8_t* p = grow(kOpaqueFixed + o.type.size() + o.json.size());
    p[0] = K_OPAQUE;
    p[1] = o.unknown_fn ? kOpaqueUnknownFn : 0;
    p[2] = p[3] = 0;
    store<uint32_t>(p + 4, static_cast<uint32_t>(o.type.size()));
    store<uint32_t>(p + 8, static_cast<uint32_t>(o.json.size()));
    std::memcpy(p + kOpaqueFixed, o.type.data(), o.type.size());
    std::memcpy(p + kOpaqueFixed + o.type.size(), o.json.data(), o.json.size());
    record_done();
  }

  void flush() override { emit_chunk(); }
  void close() override {
    if (closed_) return;
    closed_ = true;
    emit_chunk();
    out_.close();
  }
  uint64_t bytes_written() const override {
    return out_.bytes() + (records_ ? buf_.size() + kChunkPad : 0);
  }

 private:
  uint64_t events_ = 0;  // events written (the footer says this many)
  // Room for n more payload bytes; the pointer is valid until the next grow().
  uint8_t* grow(size_t n) {
    if (closed_) throw std::runtime_error(out_.name() + ": write after close");
    if (n > kMaxChunkPayload - kStrdefFixed)
      throw std::runtime_error(out_.name() + ": a record of " + std::to_string(n) +
                               " bytes is too large for the .gvt format");
    // A record never straddles chunks; a full chunk goes out before a big record.
    if (buf_.size() - kChunkHeaderSize + n > kMaxChunkPayload) emit_chunk();
    size_t at = buf_.size();
    buf_.resize(at + n);
    return buf_.data() + at;
  }

  void record_done() {
    ++records_;
    if (buf_.size() - kChunkHeaderSize >= kChunkTarget) emit_chunk();
  }

  uint32_t string_id(std::string_view s) {
    if (s.empty()) return 0;
    if (s == last_str_) return last_id_;
    auto it = ids_.find(s);
    uint32_t id;
    if (it != ids_.end()) {
      id = it->second;
    } else {
      id = static_cast<uint32_t>(ids_.size() + 1);
      ids_.emplace(std::string(s), id);
      uint8_t* p = grow(kStrdefFixed + s.size());
      p[0] = K_STRDEF;
      p[1] = p[2] = p[3] = 0;
      store<uint32_t>(p + 4, id);
      store<uint32_t>(p + 8, static_cast<uint32_t>(s.size()));
      std::memcpy(p + kStrdefFixed, s.data(), s.size());
      ++records_;  // a chunk record, though not a trace record
    }
    last_str_.assign(s);
    last_id_ = id;
    return id;
  }

  void emit_chunk() {
    if (records_ == 0) return;
    buf_.resize(buf_.size() + kChunkPad);  // zeros: see kChunkPad
    size_t payload = buf_.size() - kChunkHeaderSize;
    ++seq_;
    uint8_t* h = buf_.data();
    store<uint32_t>(h, kChunkMagic);
    store<uint32_t>(h + 4, static_cast<uint32_t>(payload));
    store<uint32_t>(h + 8, records_);
    store<uint32_t>(h + 12, seq_);
    store<uint64_t>(h + 16, chunk_checksum(h + kChunkHeaderSize, payload, chunk_seed(records_, seq_)));
    // Reset first: if the write throws, the chunk is not written twice later.
    records_ = 0;
    st_.reset();
    try {
      out_.write_all(buf_.data(), buf_.size());
    } catch (...) {
      buf_.resize(kChunkHeaderSize);
      throw;
    }
    buf_.resize(kChunkHeaderSize);
  }

  OutputFile out_;
  DeltaState st_{};           // events are delta-coded within a chunk
  std::vector<uint8_t> buf_;  // chunk header slot + payload
  uint32_t records_ = 0;      // records in buf_
  uint32_t seq_ = 0;          // chunks written
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> ids_;
  std::string last_str_;
  uint32_t last_id_ = 0;
  std::string scratch_;
  std::vector<uint32_t> ids_scratch_;
  bool closed_ = false;
};

}  // namespace

std::unique_ptr<TraceWriter> make_gvt_writer(const std::string& path) {
  return std::make_unique<GvtWriter>(path);
}

}  // namespace gvt
