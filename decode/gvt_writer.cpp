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
    // Sized once: records are written in place past used_, never zero-filled first
    // (a vector resize per record cleared kMaxEventSize bytes each time).
    buf_.resize(kChunkHeaderSize + kChunkTarget + kMaxEventSize + kChunkPad + 4096);
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
    std::memset(p, 0, kHeaderFixed);
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
    uint32_t comm = string_id(e.comm, last_comm_);
    uint32_t present = e.present & ((1u << FIELD_COUNT_) - 1);
    uint32_t ids[3] = {};
    if (present & json::kStringFields) {
      if (present & bit(A_NAME)) ids[0] = string_id(e.name, last_name_);
      if (present & bit(S_VM_NAME)) ids[1] = string_id(e.vm_name, last_vm_name_);
      if (present & bit(SYMBOL)) ids[2] = string_id(e.symbol, last_symbol_);
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
    // String fields are written as their ids: only events that carry one pay for a
    // patched copy of the values, the others skip three compares per field.
    const uint64_t* vals = e.v;
    uint64_t patched[FIELD_COUNT_];
    if (present & json::kStringFields) {
      std::memcpy(patched, e.v, sizeof patched);
      patched[A_NAME] = ids[0];
      patched[S_VM_NAME] = ids[1];
      patched[SYMBOL] = ids[2];
      vals = patched;
    }
    unsigned i = 0;
    for (uint32_t bits = present; bits; bits &= bits - 1, ++i) {
      unsigned f = static_cast<unsigned>(std::countr_zero(bits));
      uint64_t v = vals[f];
      uint64_t x = v ^ st_.prev[f];
      st_.prev[f] = v;
      unsigned c = value_code(x);
      codes[i / 4] |= static_cast<uint8_t>(c << (2 * (i % 4)));
      store<uint64_t>(q, x);  // room for 8 was reserved; only kCodeLen[c] bytes are kept
      q += kCodeLen[c];
    }
    used_ = static_cast<size_t>(q - buf_.data());
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
      ids_scratch_.push_back(string_id(f.sym, last_frame_));
      ids_scratch_.push_back(string_id(f.module, last_module_));
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
    return out_.bytes() + (records_ ? used_ + kChunkPad : 0);
  }

 private:
  uint64_t events_ = 0;  // events written (the footer says this many)
  // Room for n more payload bytes, not cleared: each record writes every byte it
  // keeps. The pointer is valid until the next grow().
  uint8_t* grow(size_t n) {
    if (closed_) throw std::runtime_error(out_.name() + ": write after close");
    if (n > kMaxChunkPayload - kStrdefFixed)
      throw std::runtime_error(out_.name() + ": a record of " + std::to_string(n) +
                               " bytes is too large for the .gvt format");
    // A record never straddles chunks; a full chunk goes out before a big record.
    if (used_ - kChunkHeaderSize + n > kMaxChunkPayload) emit_chunk();
    // kChunkPad more: emit_chunk() pads in place. Only a big stack/opaque/string grows it.
    if (used_ + n + kChunkPad > buf_.size()) buf_.resize(used_ + n + kChunkPad);
    uint8_t* p = buf_.data() + used_;
    used_ += n;
    return p;
  }

  void record_done() {
    ++records_;
    if (used_ - kChunkHeaderSize >= kChunkTarget) emit_chunk();
  }

  // The string id of the previous call at the same place: an event's comm and its
  // symbol alternate, so one shared "last string" missed on nearly every event.
  struct LastString {
    std::string text;
    uint32_t id = 0;
  };

  // Inline: nearly every call repeats the previous string of its place.
  uint32_t string_id(std::string_view s, LastString& last) {
    if (s.empty()) return 0;
    if (last.id && s.size() == last.text.size() && std::memcmp(s.data(), last.text.data(), s.size()) == 0)
      return last.id;
    return string_id_slow(s, last);
  }

  [[gnu::noinline]] uint32_t string_id_slow(std::string_view s, LastString& last) {
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
    last.text.assign(s);
    last.id = id;
    return id;
  }

  void emit_chunk() {
    if (records_ == 0) return;
    std::memset(buf_.data() + used_, 0, kChunkPad);  // zeros: see kChunkPad; room left by grow()
    const size_t total = used_ + kChunkPad;
    size_t payload = total - kChunkHeaderSize;
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
      out_.write_all(buf_.data(), total);
    } catch (...) {
      used_ = kChunkHeaderSize;
      throw;
    }
    used_ = kChunkHeaderSize;
  }

  OutputFile out_;
  DeltaState st_{};           // events are delta-coded within a chunk
  std::vector<uint8_t> buf_;  // chunk header slot + payload up to used_, then spare room
  size_t used_ = kChunkHeaderSize;
  uint32_t records_ = 0;      // records in buf_
  uint32_t seq_ = 0;          // chunks written
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> ids_;
  LastString last_comm_, last_name_, last_vm_name_, last_symbol_, last_frame_, last_module_;
  std::string scratch_;
  std::vector<uint32_t> ids_scratch_;
  bool closed_ = false;
};

}  // namespace

std::unique_ptr<TraceWriter> make_gvt_writer(const std::string& path) {
  return std::make_unique<GvtWriter>(path);
}

}  // namespace gvt
