// SPDX-License-Identifier: GPL-2.0-only
// JSON Lines writer: canonical bytes, escaping, flush behaviour, errors.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "decode/json_keys.h"
#include "decode/json_text.h"
#include "decode/trace_io.h"
#include "test_util.h"

namespace gvt::test {
namespace {

// Writes a default header and `e` as JSON Lines to a fresh file `name`, reads it back
// into `sink`; false (with the reader's error) when the read fails.
::testing::AssertionResult write_and_read(const std::string& name, const Event& e, RecordingSink& sink) {
  std::string path = temp_path(name);
  {
    auto w = make_writer(path, Format::jsonl);
    w->on_header(Header{});
    w->on_event(e);
    w->close();
  }
  ReadResult r = read_trace(path, sink);
  if (r.ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << r.error;
}

TEST(JsonlWriter, RichFixtureRoundTripsByteExact) {
  std::string out = temp_path("rich.out.jsonl");
  ReadResult r = convert(data_path("rich.jsonl"), out, Format::jsonl);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(read_file(out), read_file(data_path("rich.jsonl")));
}

TEST(JsonlWriter, EventWithEveryFieldIsCanonical) {
  Event e;
  e.ts = 5012345678;
  e.cpu = 1;
  e.has_cpu = true;
  e.pid = 151;
  e.tid = 152;
  e.comm = "insmod";
  e.fn = Fn::bo_evict;
  e.phase = Phase::entry;
  e.symbol = "drm_gpuvm_bo_evict.cold";
  e.set(SYMBOL, 0);
  for (Field f : {A_GPUVM, A_OBJ, A_VM_BO, A_VA, A_LOCK, A_CTX, A_R_OBJ, A_OPS, A_EXEC, S_VM, S_OBJ, S_VM_BO,
                  S_VM_RESV, S_BO_RESV, S_OPS_VM_BO_ALLOC, S_OPS_VM_BO_FREE})
    e.set(f, 0xffff000000000000ull + f);
  e.set(A_FLAGS, 3);
  e.set(A_NUM_FENCES, 2);
  e.set(A_NAME, 0);
  e.name = "vm";
  e.set(S_VM_FLAGS, 1);
  e.set(S_VM_KREF, static_cast<uint64_t>(-2));
  e.set(S_BO_REFCOUNT, 4);
  e.set(S_REFCOUNT, static_cast<uint64_t>(-1));
  e.set(S_VM_NAME, 0);
  e.vm_name = "vm";
  e.set(S_GEM_LIST_SAME_VM, 2);
  e.set(STACK, 9);
  e.set(RET, static_cast<uint64_t>(-12));
  e.ret_kind = RetKind::err;
  e.set_tri(A_EVICT, Tri::yes);
  for (Small s : {S_ON_GEM, S_ON_EXTOBJ, S_ON_EVICT, S_ON_DEFER, S_EVICTED, S_N_VA_NONZERO})
    e.set_tri(s, s % 2 ? Tri::yes : Tri::no);
  e.set_tri(S_HELD_VM_RESV, Tri::no);
  e.set_tri(S_HELD_BO_RESV, Tri::yes);
  e.set_tri(S_HELD_GPUVA_LOCK, Tri::unknown);
  e.set_tri(S_HELD, Tri::yes);
  std::string s;
  json::append_event(s, e);
  EXPECT_EQ(s,
            R"({"type":"event","ts":5012345678,"cpu":1,"pid":151,"tid":152,"comm":"insmod","fn":"drm_gpuvm_bo_evict","phase":"entry","symbol":"drm_gpuvm_bo_evict.cold",)"
            R"("args":{"gpuvm":"0xffff000000000000","obj":"0xffff000000000001","vm_bo":"0xffff000000000002","va":"0xffff000000000003","lock":"0xffff000000000004","ctx":"0xffff000000000005","r_obj":"0xffff000000000006","ops":"0xffff000000000007","exec":"0xffff000000000008","flags":3,"num_fences":2,"name":"vm","evict":true},)"
            R"("ret":-12,)"
            R"("snap":{"vm":"0xffff00000000000d","obj":"0xffff00000000000e","vm_bo":"0xffff00000000001b","vm_flags":1,"vm_kref":-2,"vm_resv":"0xffff000000000011","bo_resv":"0xffff000000000012","bo_refcount":4,"refcount":-1,)"
            R"("on_gem":true,"on_extobj":false,"on_evict":true,"on_defer":false,"evicted":true,"n_va_nonzero":false,"held_vm_resv":"no","held_bo_resv":"yes","held_gpuva_lock":"unknown","held":"yes",)"
            R"("ops_vm_bo_alloc":"0xffff000000000015","ops_vm_bo_free":"0xffff000000000016","vm_name":"vm","gem_list_same_vm":2},"stack":9})");

  // ... and reads back to the same record.
  std::string path = write_temp("every.jsonl", kHeaderLine + "\n" + s + "\n");
  RecordingSink sink;
  ASSERT_TRUE(read_trace(path, sink).ok);
  ASSERT_EQ(sink.lines.size(), 2u);
  EXPECT_EQ(sink.lines[1], s);
  const Event& back = sink.events[0];
  EXPECT_EQ(back.present, e.present);
  EXPECT_EQ(back.small, e.small);
  for (unsigned f = 0; f < FIELD_COUNT_; ++f) {
    if (json::kStringFields & (1u << f)) continue;
    EXPECT_EQ(back.v[f], e.v[f]) << f;
  }
}

TEST(JsonlWriter, HeaderFromFields) {
  Header h;
  h.kernel = "6.12.95";
  h.clock = "monotonic";
  h.feat_deferred = Tri::no;
  h.feat_immediate_mode = Tri::yes;
  h.coverage_put = "partial";
  std::string s;
  json::append_header(s, h);
  EXPECT_EQ(s, R"({"type":"header","format":"gpuvm-trace","version":1,"kernel":"6.12.95","clock":"monotonic","features":{"deferred":false,"immediate_mode":true},"coverage":{"put":"partial"},"redacted":false})");
  // The optional reason travels inside "coverage" and is read back.
  Header why = h;
  why.coverage_put_reason = "vm_bo put inlined into f (not probed as a put)";
  s.clear();
  json::append_header(s, why);
  EXPECT_NE(s.find(R"x("coverage":{"put":"partial","put_reason":"vm_bo put inlined into f (not probed as a put)"})x"),
            std::string::npos) << s;
  {
    RecordingSink sink;
    ReadResult r = read_trace(write_temp("why.jsonl", s + "\n"), sink);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(sink.header.coverage_put_reason, why.coverage_put_reason);
  }
  Header bare;
  s.clear();
  json::append_header(s, bare);
  EXPECT_EQ(s, R"({"type":"header","format":"gpuvm-trace","version":1,"redacted":false})");
  // Raw text wins, kept on one line.
  h.raw_json = "{\"type\":\"header\",\n\"format\":\"gpuvm-trace\",\"version\":1}";
  s.clear();
  json::append_header(s, h);
  EXPECT_EQ(s, "{\"type\":\"header\", \"format\":\"gpuvm-trace\",\"version\":1}");
}

TEST(JsonlWriter, StringsAreEscapedAndValidUtf8) {
  std::string s;
  json::append_string(s, std::string("a\"b\\c\n\t\x01\x7f é \xff\xc3("));
  EXPECT_EQ(s, "\"a\\\"b\\\\c\\n\\t\\u0001\x7f é \\ufffd\\ufffd(\"");
  // A kernel comm with invalid UTF-8 still gives a readable trace.
  Event e;
  e.tid = 1;
  e.fn = Fn::bo_put;
  e.comm = "k\xe2\x82worker";
  RecordingSink sink;
  ASSERT_TRUE(write_and_read("utf8.jsonl", e, sink));
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].comm, "k\xef\xbf\xbd\xef\xbf\xbdworker");
}

TEST(JsonlWriter, UnknownFunctionEventReadsBackAsOpaque) {
  Event e;
  e.tid = 1;
  e.fn = Fn::unknown;
  RecordingSink sink;
  ASSERT_TRUE(write_and_read("unknownfn.jsonl", e, sink));
  ASSERT_EQ(sink.opaques.size(), 1u);
  EXPECT_TRUE(sink.opaques[0].unknown_fn);
}

TEST(JsonlWriter, FlushWritesCompleteLines) {
  std::string path = temp_path("flush.jsonl");
  auto w = make_writer(path, Format::jsonl);
  w->on_header(Header{});
  Lost l;
  l.count = 3;
  w->on_lost(l);
  EXPECT_EQ(read_file(path), "");  // buffered
  w->flush();
  std::string text = read_file(path);
  EXPECT_EQ(text, "{\"type\":\"header\",\"format\":\"gpuvm-trace\",\"version\":1,\"redacted\":false}\n"
                  "{\"type\":\"lost\",\"count\":3}\n");
  EXPECT_EQ(w->bytes_written(), text.size());
  // Many records: whatever has reached the file ends with a complete line.
  for (int i = 0; i < 100000; ++i) {
    w->on_lost(l);
    if (i % 997 == 0) {
      std::string now = read_file(path);
      ASSERT_EQ(now.back(), '\n');
    }
  }
  w->close();
  RecordingSink sink;
  ReadResult r = read_trace(path, sink);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.records, 100002u);
}

TEST(JsonlWriter, CannotCreate) {
  try {
    make_writer("/nonexistent/dir/out.jsonl", Format::jsonl);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/dir/out.jsonl: cannot create: No such file or directory");
  }
  EXPECT_THROW(make_writer("/nonexistent/dir/out.gvt", Format::gvt), std::runtime_error);
}

TEST(JsonlWriter, FormatForPath) {
  EXPECT_EQ(format_for_path("a.gvt"), Format::gvt);
  EXPECT_EQ(format_for_path("/x/y.gvt"), Format::gvt);
  EXPECT_EQ(format_for_path("a.jsonl"), Format::jsonl);
  EXPECT_EQ(format_for_path("gvt"), Format::jsonl);
  EXPECT_EQ(format_for_path("-"), Format::jsonl);
  EXPECT_EQ(format_for_path("a.gvt.jsonl"), Format::jsonl);
}

}  // namespace
}  // namespace gvt::test
