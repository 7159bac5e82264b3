// SPDX-License-Identifier: GPL-2.0-only
// Over ~500 lines on purpose: one reader class; the mapped and the piped paths share its
// chunk checks and the table-driven event decoder.
// .gvt reader (decode/GVT-FORMAT.md). Regular files are mapped; pipes are read chunk
// by chunk into one reused buffer. Every chunk's checksum is verified before any of
// its records reaches the sink, so a damaged or torn chunk delivers nothing.
#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "decode/gvt_format.h"
#include "decode/json_keys.h"
#include "decode/json_text.h"
#include "decode/jsonl_parse.h"
#include "decode/readers.h"
#include "decode/string_store.h"

namespace gvt {
namespace {

using namespace gvtf;

class GvtReader {
 public:
  GvtReader(InputFile& in, RecordSink& sink, bool salvage, ReadProgress* progress)
      : in_(in), sink_(sink), salvage_(salvage), progress_(progress) {
    strings_.emplace_back();  // id 0: the empty string
  }
  ReadResult run(std::string_view prefix);

 private:
  enum class Next { chunk, end, torn, bad_header, bad_checksum, error };
  Next next_mapped(const uint8_t*& payload, uint32_t& bytes, uint32_t& records);
  Next next_streamed(ByteStream& s, const uint8_t*& payload, uint32_t& bytes, uint32_t& records);
  Next check_header(const uint8_t* h, uint32_t& bytes, uint32_t& records) const;
  // Decodes one verified chunk; false on a malformed record (error_ set).
  bool decode(const uint8_t* p, size_t n, uint32_t records);
  size_t decode_event(const uint8_t* p);
  size_t event_size(const uint8_t* p, size_t left) const;
  bool bad(std::string why);
  // With --salvage a damaged chunk may have defined strings that later chunks use:
  // those read as a placeholder instead of failing the whole file.
  bool string_ok(uint64_t id) const { return id < strings_.size() || salvage_; }
  std::string_view str(uint64_t id) const {
    return id < strings_.size() ? strings_[id] : std::string_view("<damaged>");
  }
  // --salvage: the offset of the next chunk header after `from` that verifies (magic,
  // a later sequence number, size, checksum), or 0 when there is none.
  uint64_t resync(uint64_t from, uint32_t& seq) const;

  InputFile& in_;
  RecordSink& sink_;
  bool salvage_;
  ReadProgress* progress_;  // optional: bytes consumed, per chunk
  uint64_t skipped_bytes_ = 0;  // --salvage: bytes of the chunks skipped so far
  StringStore store_;
  std::vector<std::string_view> strings_;  // id -> text
  Event event_;
  DeltaState st_{};
  StackRec stack_;
  Opaque opaque_;
  std::string scratch_;
  std::unique_ptr<JsonlParser> header_parser_;
  bool header_seen_ = false;
  uint32_t seq_ = 0;         // chunks verified so far
  uint64_t offset_ = 0;      // file offset of the next chunk
  uint64_t released_ = 0;    // mapped bytes given back (Mapping::release_before)
  // Every page of the mapping read so far counts in the resident set until released, so
  // this step is what a mapped file adds to the peak RSS over a piped one (32 MiB made
  // a 100 M-event lint 80 MB instead of 50). One madvise per MiB costs nothing measurable.
  static constexpr uint64_t kReleaseEvery = 1u << 20;
  uint64_t records_ = 0;
  uint64_t events_ = 0;      // event records (opaque ones of unknown functions too), for the footer
  bool footer_ = false;
  std::string error_;        // set by bad()
  // Mapped input
  const uint8_t* map_ = nullptr;
  size_t map_size_ = 0;
  // Streamed input
  std::vector<uint8_t> chunk_buf_;
};

bool GvtReader::bad(std::string why) {
  error_ = in_.name() + ": chunk " + std::to_string(seq_ + 1) + " at byte " + std::to_string(offset_) +
           ": " + why + " (damaged file, or written by a newer gpuvm-trace?)";
  return false;
}

GvtReader::Next GvtReader::check_header(const uint8_t* h, uint32_t& bytes, uint32_t& records) const {
  bytes = load<uint32_t>(h + 4);
  records = load<uint32_t>(h + 8);
  if (load<uint32_t>(h) != kChunkMagic || load<uint32_t>(h + 12) != seq_ + 1 || bytes > kMaxChunkPayload)
    return Next::bad_header;
  return Next::chunk;
}

GvtReader::Next GvtReader::next_mapped(const uint8_t*& payload, uint32_t& bytes, uint32_t& records) {
  size_t left = map_size_ - offset_;
  if (left == 0) return Next::end;
  if (left < kChunkHeaderSize) return Next::torn;
  const uint8_t* h = map_ + offset_;
  if (Next n = check_header(h, bytes, records); n != Next::chunk) return n;
  if (left - kChunkHeaderSize < bytes) return Next::torn;
  payload = h + kChunkHeaderSize;
  if (chunk_checksum(payload, bytes, chunk_seed(records, seq_ + 1)) != load<uint64_t>(h + 16))
    return Next::bad_checksum;
  return Next::chunk;
}

GvtReader::Next GvtReader::next_streamed(ByteStream& s, const uint8_t*& payload, uint32_t& bytes,
                                         uint32_t& records) {
  uint8_t h[kChunkHeaderSize];
  ssize_t got = s.read(h, sizeof h);
  if (got < 0) return Next::error;
  if (got == 0) return Next::end;
  if (static_cast<size_t>(got) < sizeof h) return Next::torn;
  if (Next n = check_header(h, bytes, records); n != Next::chunk) return n;
  if (chunk_buf_.size() < bytes) chunk_buf_.resize(bytes);
  got = s.read(chunk_buf_.data(), bytes);
  if (got < 0) return Next::error;
  if (static_cast<size_t>(got) < bytes) return Next::torn;
  payload = chunk_buf_.data();
  if (chunk_checksum(payload, bytes, chunk_seed(records, seq_ + 1)) != load<uint64_t>(h + 16))
    return Next::bad_checksum;
  return Next::chunk;
}

// Size of the event record at p, or 0 when it does not fit in `left` bytes or uses
// flags this version does not know. Walks the record without decoding the values;
// only used near the end of a chunk, where the fast path's worst-case bound fails.
size_t GvtReader::event_size(const uint8_t* p, size_t left) const {
  size_t need = kEventFixed;
  if (left < need) return 0;
  uint8_t fn = p[1], fa = p[2], fb = p[3];
  unsigned ph = fa & kEvExit;
  uint32_t present = st_.present[fn][ph];
  if (!(fb & kEvPresentSame)) {
    if (left < need + 4) return 0;
    present = load<uint32_t>(p + need);
    need += 4;
  }
  if (present >> FIELD_COUNT_) return 0;
  if (!(fb & kEvSmallSame)) need += 4;
  need += (fa & kEvTsLong) ? 8 : 4;
  if (!(fa & kEvSameTask)) need += 12;
  if ((fa & kEvHasCpu) && !(fa & kEvSameCpu)) need += 4;
  unsigned n = popcount32(present);
  size_t ncode = (2 * n + 7) / 8;
  if (left < need + ncode) return 0;
  const uint8_t* codes = p + need;
  need += ncode;
  for (unsigned i = 0; i < n; ++i) need += kCodeLen[(codes[i / 4] >> (2 * (i % 4))) & 3];
  return need <= left ? need : 0;
}

// Byte offsets of the 4 values of one code byte, and their total length: lets the
// value loads of a group issue independently instead of as a chain of additions.
struct CodeGroup {
  uint8_t off[4];
  uint8_t total;
};
constexpr std::array<CodeGroup, 256> make_groups() {
  std::array<CodeGroup, 256> t{};
  for (unsigned b = 0; b < 256; ++b) {
    unsigned off = 0;
    for (unsigned k = 0; k < 4; ++k) {
      t[b].off[k] = static_cast<uint8_t>(off);
      off += kCodeLen[(b >> (2 * k)) & 3];
    }
    t[b].total = static_cast<uint8_t>(off);
  }
  return t;
}
constexpr std::array<CodeGroup, 256> kGroups = make_groups();

// Decodes the event at p (which the caller made sure fits) and hands it on. Returns
// the record size, 0 on a malformed record (error_ set). Optional parts are selected
// with arithmetic rather than branches: their flags vary from event to event and
// mispredicted branches would cost more than the loads (the chunk padding keeps
// every load inside the payload).
size_t GvtReader::decode_event(const uint8_t* p) {
  Event& e = event_;
  DeltaState& st = st_;
  const uint8_t fn = p[1], fa = p[2], fb = p[3];
  const unsigned ph = fa & kEvExit;
  const unsigned ret = (fa >> kEvRetShift) & 7;
  if ((fb & ~kEvKnownFlags3) || ret > static_cast<unsigned>(RetKind::integer))
    return bad("event with flags this version does not know"), 0;
  const uint8_t* q = p + kEventFixed;

  const bool new_present = !(fb & kEvPresentSame);
  uint32_t present = new_present ? load<uint32_t>(q) : st.present[fn][ph];
  st.present[fn][ph] = present;
  q += 4 * new_present;
  const bool new_small = !(fb & kEvSmallSame);
  uint32_t small = new_small ? load<uint32_t>(q) : st.small[fn][ph];
  st.small[fn][ph] = small;
  q += 4 * new_small;
  if ((present >> FIELD_COUNT_) || (small >> (2 * SMALL_COUNT_)))
    return bad("event with fields this version does not know"), 0;

  const bool ts_long = fa & kEvTsLong;
  const uint64_t ts_raw = load<uint64_t>(q);
  st.ts = ts_long ? ts_raw : st.ts + static_cast<uint32_t>(ts_raw);
  q += ts_long ? 8 : 4;

  if (!(fa & kEvSameTask)) {  // usually taken or usually not, per trace: predictable
    st.tid = load<int32_t>(q);
    st.pid = load<int32_t>(q + 4);
    st.comm = load<uint32_t>(q + 8);
    q += 12;
    if (!string_ok(st.comm)) return bad("event names undefined string " + std::to_string(st.comm)), 0;
  }
  const bool has_cpu = fa & kEvHasCpu;
  const bool new_cpu = has_cpu && !(fa & kEvSameCpu);
  const uint32_t cpu_raw = load<uint32_t>(q);
  st.cpu = new_cpu ? cpu_raw : st.cpu;
  q += 4 * new_cpu;

  // Values of fields the previous event had and this one lacks go back to 0, so
  // the reused Event never shows a stale value (cheaper than clearing all of v[]).
  for (uint32_t stale = e.present & ~present; stale; stale &= stale - 1) e.v[std::countr_zero(stale)] = 0;
  // The string views are only ever set for an event with a string field.
  if (e.present & json::kStringFields) e.name = e.vm_name = e.symbol = {};
  e.present = present;
  e.small = small;
  e.fn = static_cast<Fn>(fn);
  e.phase = ph ? Phase::exit : Phase::entry;
  e.has_cpu = has_cpu;
  e.cpu = has_cpu ? st.cpu : 0;
  e.ret_kind = static_cast<RetKind>(ret);
  e.ts = st.ts;
  e.tid = st.tid;
  e.pid = st.pid;
  e.comm = str(st.comm);

  const uint8_t* codes = q;
  q += (2 * popcount32(present) + 7) / 8;
  uint32_t bits = present;
  for (const uint8_t* cp = codes; bits; ++cp) {
    const uint8_t cb = *cp;
    const CodeGroup& g = kGroups[cb];
    for (unsigned k = 0; k < 4 && bits; ++k, bits &= bits - 1) {
      unsigned f = static_cast<unsigned>(std::countr_zero(bits));
      uint64_t v = st.prev[f] ^ (load<uint64_t>(q + g.off[k]) & kCodeMask[(cb >> (2 * k)) & 3]);
      st.prev[f] = v;
      e.v[f] = v;
    }
    q += g.total;
  }
  if (present & json::kStringFields) {
    for (Field f : {A_NAME, S_VM_NAME, SYMBOL}) {
      if (!e.has(f)) continue;
      if (!string_ok(e.v[f])) return bad("event names undefined string " + std::to_string(e.v[f])), 0;
      (f == A_NAME ? e.name : f == S_VM_NAME ? e.vm_name : e.symbol) = str(e.v[f]);
      e.v[f] = 0;
    }
  }
  if (e.fn == Fn::unknown || e.fn >= Fn::count_) [[unlikely]] {
    // Like a JSONL event naming a function this version does not know.
    opaque_.json.clear();
    json::append_event(opaque_.json, e);
    opaque_.type = "event";
    opaque_.unknown_fn = true;
    opaque_.line = 0;
    ++events_;
    sink_.on_opaque(opaque_);
  } else {
    ++events_;
    sink_.on_event(e);
  }
  return static_cast<size_t>(q - p);
}

bool GvtReader::decode(const uint8_t* p, size_t n, uint32_t records) {
  if (n < kChunkPad) return bad("chunk shorter than its padding");
  st_.reset();
  const uint8_t* end = p + n - kChunkPad;
  uint32_t count = 0;
  if (!header_seen_ && p < end && p[0] != K_HEADER) return bad("the first record is not the trace header");
  while (p < end) {
    size_t left = static_cast<size_t>(end - p);
    // The footer ends a trace (trace-format.md): anything after it is concatenation
    // or damage, and the footer's counts would lie.
    if (footer_ && p[0] != K_STRDEF) [[unlikely]]
      return bad("a record after the footer");
    if (p[0] == K_EVENT && left >= kMaxEventSize) [[likely]] {  // the hot path
      size_t size = decode_event(p);
      if (size == 0) return false;
      p += size;
      ++count;
      ++records_;
      continue;
    }
    switch (p[0]) {
      case K_EVENT: {
        // Far from the chunk end no bound can be crossed; near it, measure first.
        if (left < kMaxEventSize && event_size(p, left) == 0)
          return bad("short or unknown event record");
        size_t size = decode_event(p);
        if (size == 0) return false;
        p += size;
        break;
      }
      case K_STRDEF: {
        if (left < kStrdefFixed) return bad("short string record");
        uint32_t id = load<uint32_t>(p + 4), len = load<uint32_t>(p + 8);
        if (left - kStrdefFixed < len) return bad("short string record");
        // Strings of skipped chunks: no more of them than those bytes could define (a
        // damaged id must not make us allocate gigabytes).
        if (salvage_ && id > strings_.size() && id - strings_.size() <= skipped_bytes_ / kStrdefFixed)
          strings_.resize(id, std::string_view("<damaged>"));  // defined in a skipped chunk
        if (id != strings_.size()) return bad("string " + std::to_string(id) + " defined out of order");
        strings_.push_back(store_.intern({reinterpret_cast<const char*>(p + kStrdefFixed), len}));
        p += kStrdefFixed + len;
        ++count;
        continue;  // not a trace record: not delivered, not counted in records_
      }
      case K_LOST: {
        if (left < kLostSize) return bad("short lost record");
        Lost l;
        uint8_t flags = p[1];
        if (flags & kLostHasCpu) l.cpu = load<uint32_t>(p + 4);
        l.count = load<uint64_t>(p + 8);
        if (flags & kLostHasTs) l.ts = load<uint64_t>(p + 16);
        sink_.on_lost(l);
        p += kLostSize;
        break;
      }
      case K_STACK: {
        if (left < kStackFixed) return bad("short stack record");
        uint32_t frames = load<uint32_t>(p + 4);
        if ((left - kStackFixed) / kFrameSize < frames) return bad("short stack record");
        stack_.id = load<uint64_t>(p + 8);
        stack_.frames.resize(frames);
        const uint8_t* f = p + kStackFixed;
        for (Frame& fr : stack_.frames) {
          uint32_t sym = load<uint32_t>(f + 8), mod = load<uint32_t>(f + 12);
          if (!string_ok(sym) || !string_ok(mod)) return bad("stack frame names an undefined string");
          fr.addr = load<uint64_t>(f);
          fr.sym.assign(str(sym));
          fr.module.assign(str(mod));
          f += kFrameSize;
        }
        sink_.on_stack(stack_);
        p = f;
        break;
      }
      case K_FOOTER: {
        if (left < kFooterSize) return bad("short footer record");
        Footer ft;
        uint8_t flags = p[1];
        if (flags & kFooterEvents) ft.events = load<uint64_t>(p + 8);
        if (flags & kFooterLost) ft.lost = load<uint64_t>(p + 16);
        if (flags & kFooterDuration) ft.duration_ns = load<uint64_t>(p + 24);
        if (ft.events && *ft.events != events_) {
          std::string msg = "the footer counts " + std::to_string(*ft.events) + " events but the trace has " +
                            std::to_string(events_);
          // --salvage skipped chunks: the difference is expected there (and reported).
          if (!salvage_) {
            error_ = in_.name() + ": chunk " + std::to_string(seq_ + 1) + " at byte " + std::to_string(offset_) +
                     ": " + msg + " (records removed or added: damaged file?)";
            return false;
          }
        }
        footer_ = true;
        sink_.on_footer(ft);
        p += kFooterSize;
        break;
      }
      case K_HEADER: {
        if (left < kHeaderFixed) return bad("short header record");
        uint32_t len = load<uint32_t>(p + 4);
        if (left - kHeaderFixed < len) return bad("short header record");
        if (header_seen_) return bad("a second header record");
        // The header is the JSONL header text: one parser decides what it means.
        scratch_.assign(reinterpret_cast<const char*>(p + kHeaderFixed), len);
        scratch_.append(JsonlParser::kPadding, '\0');
        if (!header_parser_) header_parser_ = std::make_unique<JsonlParser>(store_);
        auto k = header_parser_->parse(std::string_view(scratch_.data(), len), 0);
        if (k == JsonlParser::Kind::future_version) {
          error_ = in_.name() + ": trace format version " + std::to_string(header_parser_->version()) +
                   " is newer than this gpuvm-trace (reads 1): upgrade gpuvm-trace";
          return false;
        }
        if (k != JsonlParser::Kind::header) return bad("bad header record: " + header_parser_->error());
        header_seen_ = true;
        sink_.on_header(header_parser_->header());
        p += kHeaderFixed + len;
        break;
      }
      case K_OPAQUE: {
        if (left < kOpaqueFixed) return bad("short opaque record");
        uint32_t tlen = load<uint32_t>(p + 4), jlen = load<uint32_t>(p + 8);
        if (left - kOpaqueFixed < static_cast<uint64_t>(tlen) + jlen) return bad("short opaque record");
        const char* t = reinterpret_cast<const char*>(p + kOpaqueFixed);
        opaque_.type.assign(t, tlen);
        opaque_.json.assign(t + tlen, jlen);
        opaque_.unknown_fn = p[1] & kOpaqueUnknownFn;
        opaque_.line = 0;
        // The text goes verbatim into JSONL output: it must be the JSON object the
        // record claims to be (one line, same type), or a converted trace would not parse.
        {
          scratch_.assign(opaque_.json);
          scratch_.append(JsonlParser::kPadding, '\0');
          if (!header_parser_) header_parser_ = std::make_unique<JsonlParser>(store_);
          auto k = header_parser_->parse(std::string_view(scratch_.data(), jlen), 0);
          if (k != JsonlParser::Kind::opaque || header_parser_->opaque().type != opaque_.type ||
              header_parser_->opaque().unknown_fn != opaque_.unknown_fn ||
              opaque_.json.find('\n') != std::string::npos)
            return bad("opaque record whose text is not a JSON object of its type");
        }
        if (opaque_.unknown_fn) ++events_;
        sink_.on_opaque(opaque_);
        p += kOpaqueFixed + tlen + jlen;
        break;
      }
      default:
        return bad("unknown record kind " + std::to_string(p[0]));
    }
    ++count;
    ++records_;
  }
  if (count != records) return bad("record count does not match the chunk header");
  return true;
}

ReadResult GvtReader::run(std::string_view prefix) {
  ReadResult r;
  r.format = Format::gvt;
  const std::string& name = in_.name();

  // Regular files are mapped; a failed mapping (or a pipe) falls back to reads.
  std::unique_ptr<Mapping> mapping;
  if (in_.regular() && !in_.is_stdin() && in_.size() > 0) {
    mapping = std::make_unique<Mapping>(in_.fd(), in_.size());
    if (mapping->data()) {
      map_ = mapping->data();
      map_size_ = mapping->size();
    }
  }
  ByteStream stream(in_, prefix);
  uint8_t fh[kFileHeaderSize];
  size_t fh_len;
  if (map_) {
    fh_len = std::min(map_size_, kFileHeaderSize);
    std::memcpy(fh, map_, fh_len);
  } else {
    ssize_t got = stream.read(fh, sizeof fh);
    if (got < 0) {
      r.ok = false;
      r.error = name + ": read error: " + errno_text(errno);
      return r;
    }
    fh_len = static_cast<size_t>(got);
  }
  if (fh_len < kFileHeaderSize || std::memcmp(fh, kMagic, sizeof kMagic) != 0) {
    r.ok = false;
    r.error = fh_len < kFileHeaderSize && std::memcmp(fh, kMagic, std::min(fh_len, sizeof kMagic)) == 0
                  ? name + ": truncated .gvt file header (" + std::to_string(fh_len) +
                        " bytes; recorder killed before its first write?)"
                  : name + ": not a gpuvm-trace file (bad .gvt magic)";
    return r;
  }
  uint16_t major = load<uint16_t>(fh + 8), minor = load<uint16_t>(fh + 10);
  if (major != kMajor) {
    r.ok = false;
    r.error = major > kMajor ? name + ": trace format version " + std::to_string(major) + "." +
                                   std::to_string(minor) +
                                   " is newer than this gpuvm-trace (reads 1): upgrade gpuvm-trace"
                             : name + ": unsupported .gvt version " + std::to_string(major);
    return r;
  }
  offset_ = kFileHeaderSize;

  for (;;) {
    const uint8_t* payload = nullptr;
    uint32_t bytes = 0, records = 0;
    Next n = map_ ? next_mapped(payload, bytes, records) : next_streamed(stream, payload, bytes, records);
    if (n == Next::chunk) {
      if (!decode(payload, bytes, records)) {
        r.ok = false;
        r.error = error_;
        break;
      }
      ++seq_;
      offset_ += kChunkHeaderSize + bytes;
      if (progress_) progress_->bytes = offset_;
      if (mapping && offset_ - released_ >= kReleaseEvery) {
        mapping->release_before(offset_);
        released_ = offset_;
      }
      continue;
    }
    if (n == Next::error) {
      r.ok = false;
      r.error = name + ": read error: " + errno_text(errno);
      break;
    }
    if (n == Next::end) break;
    if (n == Next::torn) {
      // Cut short (recorder killed mid-write): everything before is delivered and sound.
      r.truncated = true;
      r.note = name + ": truncated after chunk " + std::to_string(seq_) + " at byte " + std::to_string(offset_) +
               " (recorder killed?); read " + std::to_string(records_) + " records";
      break;
    }
    // Damaged: a complete chunk (or bytes where one should start) that does not verify.
    // Never a quiet ending: the rest of the file would go unread.
    std::string what = name + ": chunk " + std::to_string(seq_ + 1) + " at byte " + std::to_string(offset_) +
                       (n == Next::bad_checksum ? " fails its checksum" : " has a damaged chunk header");
    if (!salvage_) {
      r.ok = false;
      r.error = what + " (file damaged): rerun with --salvage to read the chunks that verify";
      break;
    }
    if (r.damage.empty()) r.damage = what;
    uint32_t next_seq = 0;
    uint64_t next = map_ ? resync(offset_ + 1, next_seq) : 0;
    ++r.damaged;
    r.damaged_bytes += (next ? next : (map_ ? map_size_ : offset_)) - offset_;
    skipped_bytes_ = r.damaged_bytes;
    // The skipped chunks held events the model never sees: a loss at this point.
    Lost l;
    l.count = n == Next::bad_checksum && records ? records : 1;
    sink_.on_lost(l);
    if (!next) {
      if (!map_) r.damage += " (standard input or a pipe: cannot look for later chunks)";
      break;
    }
    seq_ = next_seq - 1;
    offset_ = next;
  }
  r.records = records_;
  r.footer = footer_;
  if (r.ok && !header_seen_) {
    r.ok = false;
    r.error = r.truncated ? r.note + "; no trace header before that point"
                          : name + ": no trace header (empty .gvt file: recorder killed before its first write?)";
    r.note.clear();
    return r;
  }
  if (r.ok && !r.truncated && !r.footer)
    r.note = name + ": the trace ended without a footer (recorder killed or still running?)";
  if (r.ok && r.damaged)
    r.note = r.damage + "; --salvage skipped " + std::to_string(r.damaged) + " damaged region" +
             (r.damaged == 1 ? "" : "s") + " (" + std::to_string(r.damaged_bytes) + " bytes), read " +
             std::to_string(records_) + " records" + (r.note.empty() ? "" : "; " + r.note);
  return r;
}

uint64_t GvtReader::resync(uint64_t from, uint32_t& seq) const {
  for (uint64_t off = from; off + kChunkHeaderSize <= map_size_; ++off) {
    const uint8_t* h = map_ + off;
    if (load<uint32_t>(h) != kChunkMagic) continue;
    uint32_t bytes = load<uint32_t>(h + 4), records = load<uint32_t>(h + 8), s = load<uint32_t>(h + 12);
    if (s <= seq_ || bytes > kMaxChunkPayload || map_size_ - off - kChunkHeaderSize < bytes) continue;
    if (chunk_checksum(h + kChunkHeaderSize, bytes, chunk_seed(records, s)) != load<uint64_t>(h + 16)) continue;
    seq = s;
    return off;
  }
  return 0;
}

}  // namespace

ReadResult read_gvt(InputFile& in, std::string_view prefix, RecordSink& sink, const ReadOptions& opts) {
  GvtReader r(in, sink, opts.salvage, opts.progress);
  return r.run(prefix);
}

}  // namespace gvt
