// SPDX-License-Identifier: GPL-2.0-only
// Binary .gvt: lossless conversion, torn and damaged files, pipes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include <xxhash.h>

#include "decode/gvt_format.h"
#include "decode/header_filter.h"
#include "decode/json_text.h"
#include "decode/redact.h"
#include "decode/trace_io.h"
#include "gvt_chunks.h"
#include "test_util.h"

namespace gvt::test {
namespace {

// Forwards every record to a writer and flushes after each, so every record (but
// the strings it defines) gets a chunk of its own.
struct FlushEach : RecordSink {
  TraceWriter& w;
  explicit FlushEach(TraceWriter& w) : w(w) {}
  void on_header(const Header& h) override { w.on_header(h), w.flush(); }
  void on_event(const Event& e) override { w.on_event(e), w.flush(); }
  void on_lost(const Lost& l) override { w.on_lost(l), w.flush(); }
  void on_stack(const StackRec& s) override { w.on_stack(s), w.flush(); }
  void on_footer(const Footer& f) override { w.on_footer(f), w.flush(); }
  void on_opaque(const Opaque& o) override { w.on_opaque(o), w.flush(); }
};

std::string chunked_rich_gvt() {
  std::string path = temp_path("chunked.gvt");
  auto w = make_writer(path, Format::gvt);
  FlushEach f(*w);
  ReadResult r = read_trace(data_path("rich.jsonl"), f);
  EXPECT_TRUE(r.ok) << r.error;
  w->close();
  return read_file(path);
}

bool is_prefix(const std::vector<std::string>& part, const std::vector<std::string>& whole) {
  return part.size() <= whole.size() && std::equal(part.begin(), part.end(), whole.begin());
}

TEST(Gvt, JsonlToGvtToJsonlIsLossless) {
  std::string gvt = temp_path("rich.gvt"), back = temp_path("rich.back.jsonl");
  ReadResult r1 = convert(data_path("rich.jsonl"), gvt, Format::gvt);
  ASSERT_TRUE(r1.ok) << r1.error;
  ReadResult r2 = convert(gvt, back, Format::jsonl);
  ASSERT_TRUE(r2.ok) << r2.error;
  EXPECT_EQ(r2.format, Format::gvt);
  EXPECT_EQ(r2.records, r1.records);
  EXPECT_TRUE(r2.footer);
  EXPECT_FALSE(r2.truncated);
  EXPECT_EQ(r2.note, "");
  EXPECT_EQ(read_file(back), read_file(data_path("rich.jsonl")));

  // Same records, field by field, as the JSONL reader gives (but line numbers).
  RecordingSink a, b;
  ASSERT_TRUE(read_trace(data_path("rich.jsonl"), a).ok);
  ASSERT_TRUE(read_trace(gvt, b).ok);
  EXPECT_EQ(a.lines, b.lines);
  ASSERT_EQ(a.events.size(), b.events.size());
  for (size_t i = 0; i < a.events.size(); ++i) {
    const Event &x = a.events[i], &y = b.events[i];
    EXPECT_EQ(y.line, 0u);
    EXPECT_EQ(x.ts, y.ts);
    EXPECT_EQ(x.present, y.present);
    EXPECT_EQ(x.small, y.small);
    EXPECT_EQ(x.ret_kind, y.ret_kind);
    EXPECT_EQ(x.comm, y.comm);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.vm_name, y.vm_name);
    EXPECT_EQ(x.symbol, y.symbol);
    EXPECT_EQ(0, std::memcmp(x.v, y.v, sizeof x.v)) << i;  // absent fields are 0 in both
  }
  EXPECT_EQ(a.header.raw_json, b.header.raw_json);
  EXPECT_EQ(b.header.coverage_put, "complete");
  ASSERT_EQ(b.opaques.size(), 2u);
  EXPECT_EQ(b.opaques[0].type, "marker");
  EXPECT_TRUE(b.opaques[1].unknown_fn);
}

// The optional coverage.put_inlined_in list (GVT-FORMAT.md, "Header extensions"): read
// from JSONL and .gvt, written from fields, and kept byte for byte by convert, by the
// header filter and (rebuilt from fields) by redact.
TEST(Gvt, PutInlinedInSurvivesEveryPath) {
  const std::string header =
      R"({"type":"header","format":"gpuvm-trace","version":1,"kernel":"7.2.12+deb13-arm64","clock":"monotonic",)"
      R"("coverage":{"put":"complete","locks":"complete","put_reason":"every final vm_bo put is in drm_gpuvm_bo_put",)"
      R"("put_inlined_in":["drm_gpuva_unlink","drm_gpuva_unlink_defer"]},"redacted":false})";
  const std::string text = header + "\n" + R"({"type":"footer","events":0})" + "\n";
  const std::string jsonl = write_temp("inl.jsonl", text);
  RecordingSink a;
  ReadResult r = read_trace(jsonl, a);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(a.header.coverage_put_inlined_in, (std::vector<std::string>{"drm_gpuva_unlink", "drm_gpuva_unlink_defer"}));
  EXPECT_EQ(a.header.coverage_put, "complete");
  EXPECT_EQ(a.header.coverage_put_reason, "every final vm_bo put is in drm_gpuvm_bo_put");

  // Written from the fields alone: the same text.
  Header fields = a.header;
  fields.raw_json.clear();
  std::string built;
  json::append_header(built, fields);
  EXPECT_EQ(built, header);

  // JSONL -> .gvt -> JSONL is exact, and the .gvt reader sees the list.
  std::string gvt = temp_path("inl.gvt"), back = temp_path("inl.back.jsonl");
  ASSERT_TRUE(convert(jsonl, gvt, Format::gvt).ok);
  ASSERT_TRUE(convert(gvt, back, Format::jsonl).ok);
  EXPECT_EQ(read_file(back), text);
  RecordingSink b;
  ASSERT_TRUE(read_trace(gvt, b).ok);
  EXPECT_EQ(b.header.coverage_put_inlined_in, a.header.coverage_put_inlined_in);

  // The header filter (lint -t/--vm on record) and redact keep it.
  HeaderFilter hf;
  hf.tids = {42};
  Header filtered = with_header_filter(a.header, hf);
  EXPECT_NE(filtered.raw_json.find(R"("put_inlined_in":["drm_gpuva_unlink","drm_gpuva_unlink_defer"])"),
            std::string::npos)
      << filtered.raw_json;
  RecordingSink c;
  Redactor red(c, RedactOptions{});
  red.on_header(a.header);
  EXPECT_EQ(c.header.coverage_put_inlined_in, a.header.coverage_put_inlined_in);
  EXPECT_TRUE(c.header.redacted);

  // Old headers (no such key) read as an empty list; a wrong type is one clear error.
  RecordingSink old;
  ASSERT_TRUE(read_trace(write_temp("old.jsonl", kHeaderLine + "\n"), old).ok);
  EXPECT_TRUE(old.header.coverage_put_inlined_in.empty());
  for (const char* bad : {R"("put_inlined_in":"drm_gpuva_unlink")", R"("put_inlined_in":[1])"}) {
    RecordingSink d;
    ReadResult rb = read_trace(
        write_temp("bad.jsonl", std::string(R"({"type":"header","format":"gpuvm-trace","version":1,"coverage":{)") +
                                    bad + "}}\n"),
        d);
    EXPECT_FALSE(rb.ok) << bad;
    EXPECT_NE(rb.error.find("\"put_inlined_in\" must be"), std::string::npos) << rb.error;
  }
}

TEST(Gvt, MessyInputConvertsToCanonical) {
  std::string gvt = temp_path("messy.gvt"), back = temp_path("messy.back.jsonl");
  ASSERT_TRUE(convert(data_path("messy.jsonl"), gvt, Format::gvt).ok);
  ASSERT_TRUE(convert(gvt, back, Format::jsonl).ok);
  EXPECT_EQ(read_file(back), read_file(data_path("messy.canonical.jsonl")));
}

TEST(Gvt, HeaderFromFieldsAndUnknownFunctionEvents) {
  std::string path = temp_path("fields.gvt");
  Header h;
  h.kernel = "6.19";
  h.feat_immediate_mode = Tri::yes;
  Event e;
  e.tid = 3;
  e.fn = Fn::unknown;  // a producer that could not name the function
  {
    auto w = make_writer(path, Format::gvt);
    w->on_header(h);
    w->on_event(e);
    w->close();
  }
  RecordingSink s;
  ReadResult r = read_trace(path, s);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(s.header.kernel, "6.19");
  EXPECT_EQ(s.header.feat_immediate_mode, Tri::yes);
  ASSERT_EQ(s.opaques.size(), 1u);
  EXPECT_TRUE(s.opaques[0].unknown_fn);
  EXPECT_EQ(s.opaques[0].json, R"({"type":"event","ts":0,"tid":3,"fn":"unknown","phase":"entry"})");
  EXPECT_EQ(r.note, path + ": the trace ended without a footer (recorder killed or still running?)");
}

TEST(Gvt, TruncatedAtEveryOffsetReadsACleanPrefix) {
  std::string img = chunked_rich_gvt();
  std::vector<size_t> starts = gvt_chunk_starts(img);
  ASSERT_EQ(starts.back(), img.size());
  ASSERT_GT(starts.size(), 20u);
  RecordingSink full;
  std::string path = write_temp("cut.gvt", img);
  ASSERT_TRUE(read_trace(path, full).ok);

  for (size_t cut = 0; cut <= img.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    write_temp("cut.gvt", img.substr(0, cut));
    RecordingSink s;
    ReadResult r = read_trace(path, s);
    bool boundary = std::find(starts.begin(), starts.end(), cut) != starts.end();
    if (cut < starts[1]) {  // the header chunk is incomplete: nothing to read
      ASSERT_FALSE(r.ok);
      ASSERT_TRUE(s.lines.empty());
      ASSERT_EQ(r.error.find('\n'), std::string::npos);
      continue;
    }
    ASSERT_TRUE(r.ok) << r.error;
    ASSERT_TRUE(is_prefix(s.lines, full.lines));
    ASSERT_EQ(r.records, s.lines.size());
    if (cut == img.size()) {
      ASSERT_FALSE(r.truncated);
      ASSERT_EQ(s.lines.size(), full.lines.size());
    } else if (boundary) {
      ASSERT_FALSE(r.truncated);
      ASSERT_NE(r.note.find("without a footer"), std::string::npos);
    } else {
      ASSERT_TRUE(r.truncated);
      size_t k = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), cut) - starts.begin()) - 1;
      ASSERT_EQ(r.note, path + ": truncated after chunk " + std::to_string(k) + " at byte " +
                            std::to_string(starts[k]) + " (recorder killed?); read " +
                            std::to_string(s.lines.size()) + " records");
    }
  }
}

// A complete chunk that fails its checks is damage, not truncation: an input error
// naming the chunk and its offset (a quiet stop would pass a 99 % unread trace).
TEST(Gvt, DamagedChunkIsAnError) {
  std::string img = chunked_rich_gvt();
  std::vector<size_t> starts = gvt_chunk_starts(img);
  std::string bad = img;
  bad[starts[4] + 30] ^= 0x01;  // a payload byte of chunk 5
  std::string path = write_temp("flip.gvt", bad);
  RecordingSink s;
  ReadResult r = read_trace(path, s);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error, path + ": chunk 5 at byte " + std::to_string(starts[4]) +
                         " fails its checksum (file damaged): rerun with --salvage to read the chunks that verify");
  for (int field : {0, 12}) {  // chunk magic, sequence number
    std::string h = img;
    h[starts[4] + field] ^= 0x02;
    write_temp("flip.gvt", h);
    ReadResult rh = read_trace(path, s);
    ASSERT_FALSE(rh.ok) << field;
    EXPECT_NE(rh.error.find("chunk 5 at byte " + std::to_string(starts[4]) + " has a damaged chunk header"),
              std::string::npos) << rh.error;
  }
}

// --salvage: every chunk that verifies is read, each gap is handed on as a `lost`
// record (so the model answers unknown there) and counted in `damaged`.
TEST(Gvt, SalvageSkipsDamagedChunksAndMarksTheGap) {
  std::string img = chunked_rich_gvt();
  std::vector<size_t> starts = gvt_chunk_starts(img);
  std::string path = write_temp("salv.gvt", img);
  RecordingSink full;
  ASSERT_TRUE(read_trace(path, full).ok);
  std::string bad = img;
  bad[starts[4] + 30] ^= 0x01;  // chunk 5's payload
  bad[starts[6] + 2] ^= 0x40;   // chunk 7's magic
  write_temp("salv.gvt", bad);
  RecordingSink s;
  ReadOptions o;
  o.salvage = true;
  ReadResult r = read_trace(path, s, o);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.damaged, 2u);
  EXPECT_EQ(r.damaged_bytes, starts[5] - starts[4] + starts[7] - starts[6]);
  EXPECT_NE(r.note.find("chunk 5 at byte " + std::to_string(starts[4]) + " fails its checksum"), std::string::npos)
      << r.note;
  // Everything but the two damaged chunks' records arrives, with a lost record at each gap.
  auto losts = [](const RecordingSink& k) {
    size_t n = 0;
    for (const std::string& l : k.lines) n += l.find("\"type\":\"lost\"") != std::string::npos;
    return n;
  };
  EXPECT_EQ(losts(s), losts(full) + 2);
  EXPECT_EQ(s.lines.size(), full.lines.size());  // one record per chunk, each replaced by a lost one
  EXPECT_TRUE(r.footer);
}

TEST(Gvt, EveryFlippedBitIsCaughtWithoutCrashing) {
  std::string img = chunked_rich_gvt();
  RecordingSink full;
  std::string path = write_temp("flipall.gvt", img);
  ASSERT_TRUE(read_trace(path, full).ok);
  for (size_t i = 0; i < img.size(); ++i) {
    for (int b : {0, 7}) {
      std::string bad = img;
      bad[i] ^= static_cast<char>(1 << b);
      write_temp("flipall.gvt", bad);
      RecordingSink s;
      ReadResult r = read_trace(path, s);
      SCOPED_TRACE("byte " + std::to_string(i) + " bit " + std::to_string(b));
      ASSERT_TRUE(is_prefix(s.lines, full.lines));
      if (i >= 10 && i < 16) {  // minor version and reserved bytes: not checked
        ASSERT_TRUE(r.ok);
        ASSERT_EQ(s.lines, full.lines);
        continue;
      }
      // Anything else is noticed: an error, or a stop before the damaged chunk.
      ASSERT_TRUE(!r.ok || r.truncated) << r.note;
      ASSERT_LT(s.lines.size(), full.lines.size());
    }
  }
}

TEST(Gvt, BadFileHeaders) {
  std::string img = chunked_rich_gvt();
  RecordingSink s;

  std::string empty = write_temp("empty.gvt", img.substr(0, 16));
  ReadResult r = read_trace(empty, s);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, empty + ": no trace header (empty .gvt file: recorder killed before its first write?)");

  std::string torn = write_temp("torn.gvt", img.substr(0, 5));
  r = read_trace(torn, s);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("truncated .gvt file header (5 bytes"), std::string::npos) << r.error;

  std::string magic = img;
  magic[3] = 'X';
  std::string badmagic = write_temp("badmagic.gvt", magic);
  r = read_trace(badmagic, s);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, badmagic + ": not a gpuvm-trace file (bad .gvt magic)");

  std::string v2 = img;
  v2[8] = 2;
  std::string future = write_temp("future.gvt", v2);
  r = read_trace(future, s);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, future + ": trace format version 2.0 is newer than this gpuvm-trace (reads 1): upgrade gpuvm-trace");
  EXPECT_TRUE(s.lines.empty());
}

// Runs read_trace("-") with standard input fed `data` through a pipe.
ReadResult read_stdin(const std::string& data, RecordSink& sink) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  int saved = dup(STDIN_FILENO);
  dup2(fds[0], STDIN_FILENO);
  close(fds[0]);
  std::thread feeder([&] {
    size_t off = 0;
    while (off < data.size()) {
      // Small, uneven writes: the reader must cope with partial reads.
      ssize_t w = write(fds[1], data.data() + off, std::min<size_t>(data.size() - off, 1000 + off % 777));
      if (w <= 0) break;
      off += static_cast<size_t>(w);
    }
    close(fds[1]);
  });
  ReadResult r = read_trace("-", sink);
  feeder.join();
  dup2(saved, STDIN_FILENO);
  close(saved);
  return r;
}

TEST(Gvt, ReadsFromAPipe) {
  // A large file: many 64 KiB chunks through a pipe.
  std::string path = temp_path("big.gvt");
  const uint64_t n = 200000;
  {
    auto w = make_writer(path, Format::gvt);
    Header h;
    h.kernel = "6.12";
    w->on_header(h);
    Event e;
    e.pid = e.tid = 77;
    e.comm = "worker";
    e.fn = Fn::ww_mutex_lock;
    e.phase = Phase::exit;
    for (uint64_t i = 0; i < n; ++i) {
      e.ts = 1000 + i;
      e.set(A_LOCK, 0xffff000000000000ull | (i % 1000));
      e.set(RET, 0);
      e.ret_kind = RetKind::integer;
      w->on_event(e);
    }
    w->on_footer(Footer{});
    w->close();
    EXPECT_GT(w->bytes_written(), 20u * 64 * 1024);  // many chunks through the pipe
  }
  std::string img = read_file(path);
  RecordingSink from_file, from_pipe;
  ReadResult a = read_trace(path, from_file);
  ReadResult b = read_stdin(img, from_pipe);
  ASSERT_TRUE(a.ok) << a.error;
  ASSERT_TRUE(b.ok) << b.error;
  EXPECT_EQ(b.format, Format::gvt);
  EXPECT_EQ(a.records, n + 2);
  EXPECT_EQ(b.records, n + 2);
  EXPECT_TRUE(b.footer);
  EXPECT_EQ(from_file.lines, from_pipe.lines);
  EXPECT_EQ(from_pipe.events[12345].ts, 1000u + 12345u);
  EXPECT_EQ(from_pipe.events[12345].get(A_LOCK), 0xffff000000000000ull | 345u);

  // A torn pipe stream: same note as a torn file.
  RecordingSink torn;
  ReadResult t = read_stdin(img.substr(0, img.size() - 100), torn);
  ASSERT_TRUE(t.ok) << t.error;
  EXPECT_TRUE(t.truncated);
  EXPECT_NE(t.note.find("<stdin>: truncated after chunk"), std::string::npos) << t.note;
}

TEST(Gvt, JsonlFromAPipe) {
  RecordingSink s;
  std::string text = read_file(data_path("rich.jsonl"));
  ReadResult r = read_stdin(text, s);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.format, Format::jsonl);
  std::string out;
  for (auto& l : s.lines) out += l + "\n";
  EXPECT_EQ(out, text);

  RecordingSink e;
  r = read_stdin("", e);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error.rfind("<stdin>: empty file", 0), 0u) << r.error;
}

TEST(Gvt, FlushMakesRecordsDurable) {
  // What a killed recorder leaves: everything up to its last flush() is readable.
  std::string path = temp_path("durable.gvt");
  auto w = make_writer(path, Format::gvt);
  w->on_header(Header{});
  Lost l;
  l.count = 1;
  for (int i = 0; i < 10; ++i) w->on_lost(l);
  w->flush();
  for (int i = 0; i < 5; ++i) w->on_lost(l);  // buffered, not flushed
  RecordingSink s;
  ReadResult r = read_trace(path, s);  // read while the writer is still open
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.records, 11u);
  EXPECT_FALSE(r.truncated);
  EXPECT_EQ(w->bytes_written(), read_file(path).size() + 24 + 5 * 24 + 8);  // + the open chunk
  w->close();
  RecordingSink all;
  ASSERT_TRUE(read_trace(path, all).ok);
  EXPECT_EQ(all.lines.size(), 16u);
}

TEST(Gvt, ChecksumIsXxh3OfTheLibrary) {
  // GVT-FORMAT.md promises XXH3-64: the vectorised copy must agree with libxxhash.
  std::string buf;
  for (int i = 0; i < 70000; ++i) buf += static_cast<char>(i * 131 + (i >> 7));
  for (size_t n : {0, 1, 3, 16, 17, 128, 129, 240, 241, 1000, 1024, 4096, 65536, 65543, 70000})
    for (uint64_t seed : {0ull, 1ull, (7ull << 32) | 3})
      ASSERT_EQ(gvtf::chunk_checksum(buf.data(), n, seed), XXH3_64bits_withSeed(buf.data(), n, seed)) << n;
}

}  // namespace
}  // namespace gvt::test
