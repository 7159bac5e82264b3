// SPDX-License-Identifier: GPL-2.0-only
// JSON Lines reader: every record kind, every field, and every kind of bad input.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "decode/json_text.h"
#include "decode/jsonl_parse.h"
#include "decode/trace_io.h"
#include "test_util.h"

namespace gvt::test {
namespace {

ReadResult read_text(const std::string& name, const std::string& text, RecordingSink& sink,
                     ReadOptions opts = {}) {
  return read_trace(write_temp(name, text), sink, opts);
}

// A trace made of the test header line and `body`.
ReadResult read_body(const std::string& body, RecordingSink& sink, ReadOptions opts = {}) {
  return read_text("body.jsonl", kHeaderLine + "\n" + body, sink, opts);
}

// The parser runs simdjson's implementation for this CPU, not the scalar fallback the
// baseline build would give (CMake's test `decode_tests_fallback` runs every test of
// this binary again with the fallback forced, so both builds of the parser are tested).
TEST(JsonlParser, UsesTheCpusImplementation) {
  const std::string impl(JsonlParser::implementation());
  if (const char* forced = std::getenv("SIMDJSON_FORCE_IMPLEMENTATION")) {
    EXPECT_EQ(impl, forced);
    return;
  }
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("avx512bw"))
    EXPECT_EQ(impl, "icelake");
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi"))
    EXPECT_EQ(impl, "haswell");
  else
    EXPECT_NE(impl, "");
#else
  EXPECT_NE(impl, "fallback");
#endif
}

TEST(JsonlReader, RichFixtureFieldValues) {
  RecordingSink s;
  ReadResult r = read_trace(data_path("rich.jsonl"), s);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.format, Format::jsonl);
  EXPECT_TRUE(r.footer);
  EXPECT_FALSE(r.truncated);
  EXPECT_EQ(r.note, "");
  EXPECT_EQ(r.records, 28u);
  EXPECT_EQ(s.headers, 1);

  const Header& h = s.header;
  EXPECT_EQ(h.version, 1);
  EXPECT_EQ(h.kernel, "6.12.95+deb12-amd64");
  EXPECT_EQ(h.clock, "monotonic");
  EXPECT_EQ(h.feat_deferred, Tri::no);
  EXPECT_EQ(h.feat_prealloc_self_locks, Tri::no);
  EXPECT_EQ(h.coverage_put, "complete");
  EXPECT_EQ(h.coverage_locks, "complete");
  EXPECT_FALSE(h.redacted);
  EXPECT_EQ(h.line, 1u);
  EXPECT_NE(h.raw_json.find("\"hostname\":\"testbox\""), std::string::npos);

  ASSERT_EQ(s.events.size(), 20u);
  const Event& init = s.events[0];
  EXPECT_EQ(init.fn, Fn::gpuvm_init);
  EXPECT_EQ(init.phase, Phase::exit);
  EXPECT_EQ(init.line, 4u);
  EXPECT_EQ(init.name, "test-vm \"a\"\tb \x01 é ✓");
  EXPECT_EQ(init.vm_name, "test-vm");
  EXPECT_EQ(init.get(A_FLAGS), 1u);
  EXPECT_TRUE(init.has(S_OPS_VM_BO_ALLOC));
  EXPECT_EQ(init.get(S_OPS_VM_BO_ALLOC), 0u);
  EXPECT_EQ(init.comm, "insmod");
  EXPECT_EQ(init.pid, 151);
  EXPECT_TRUE(init.has_cpu);
  EXPECT_EQ(init.cpu, 1u);

  const Event& create = s.events[1];
  EXPECT_EQ(create.get(STACK), 7u);
  EXPECT_EQ(create.sget(S_BO_REFCOUNT), 3);
  EXPECT_FALSE(create.has(RET));
  EXPECT_EQ(s.events[2].ret_kind, RetKind::addr);
  EXPECT_TRUE(s.events[2].ret_is_ptr());
  EXPECT_EQ(s.events[2].get(RET), 0xffff9e3a022c45a0u);
  EXPECT_TRUE(s.events[3].ret_is_null());        // bo_find -> "0x0"
  EXPECT_EQ(s.events[4].ret_kind, RetKind::err);  // bo_obtain -> -12: ERR_PTR
  EXPECT_EQ(s.events[4].ret_int(), -12);
  EXPECT_TRUE(s.events[4].has(S_GEM_LIST_SAME_VM));
  EXPECT_EQ(s.events[5].ret_kind, RetKind::boolean);
  EXPECT_EQ(s.events[5].get(RET), 1u);
  EXPECT_EQ(s.events[5].symbol, "drm_gpuvm_bo_put.part.0");
  EXPECT_EQ(s.events[6].ret_kind, RetKind::boolean);
  EXPECT_EQ(s.events[6].get(RET), 0u);
  EXPECT_EQ(s.events[7].ret_kind, RetKind::integer);  // ww_mutex_lock -> int
  EXPECT_EQ(s.events[7].ret_int(), -35);
  EXPECT_EQ(s.events[8].tri(S_HELD), Tri::unknown);

  const Event& evict = s.events[9];
  EXPECT_EQ(evict.fn, Fn::bo_evict);
  EXPECT_EQ(evict.tri(A_EVICT), Tri::yes);
  EXPECT_EQ(evict.sget(S_VM_KREF), -1);
  EXPECT_EQ(evict.sget(S_BO_REFCOUNT), INT64_MIN);
  EXPECT_EQ(evict.sget(S_REFCOUNT), -1);
  EXPECT_EQ(evict.tri(S_ON_GEM), Tri::yes);
  EXPECT_EQ(evict.tri(S_ON_EXTOBJ), Tri::no);
  EXPECT_EQ(evict.tri(S_EVICTED), Tri::yes);
  EXPECT_EQ(evict.tri(S_HELD_VM_RESV), Tri::no);
  EXPECT_EQ(evict.tri(S_HELD_BO_RESV), Tri::yes);
  EXPECT_EQ(evict.tri(S_HELD_GPUVA_LOCK), Tri::unknown);
  EXPECT_EQ(evict.tri(S_HELD), Tri::absent);
  EXPECT_TRUE(evict.has(S_VM_NAME));
  EXPECT_EQ(evict.vm_name, "");
  EXPECT_EQ(evict.get(S_GEM_LIST_SAME_VM), 3u);
  EXPECT_EQ(evict.get(STACK), 8u);
  EXPECT_EQ(s.events[10].tri(A_EVICT), Tri::no);
  EXPECT_EQ(s.events[10].tri(S_ON_EVICT), Tri::yes);

  const Event& unlink = s.events[11];
  EXPECT_FALSE(unlink.has_cpu);
  EXPECT_FALSE(unlink.has(A_VM_BO));
  EXPECT_EQ(unlink.get(S_VM_BO), 0xffff9e3a022c45a0u);
  EXPECT_EQ(s.events[12].get(A_NUM_FENCES), UINT64_MAX);
  EXPECT_EQ(s.events[15].ret_kind, RetKind::err);  // unmap_ops_create returns a pointer
  EXPECT_EQ(s.events[16].ret_kind, RetKind::addr);

  const Event& edge = s.events[17];
  EXPECT_EQ(edge.ts, UINT64_MAX);
  EXPECT_EQ(edge.cpu, UINT32_MAX);
  EXPECT_EQ(edge.pid, INT32_MAX);
  EXPECT_EQ(edge.tid, INT32_MIN);
  EXPECT_EQ(edge.comm, "a\\b\"c\x1f");
  EXPECT_EQ(edge.get(A_VA), UINT64_MAX);
  const Event& minimal = s.events[18];
  EXPECT_EQ(minimal.fn, Fn::sys_exit);
  EXPECT_EQ(minimal.present, 0u);
  EXPECT_EQ(minimal.small, 0u);
  EXPECT_TRUE(minimal.comm.empty());
  EXPECT_EQ(s.events[19].ret_kind, RetKind::integer);

  ASSERT_EQ(s.opaques.size(), 2u);
  EXPECT_EQ(s.opaques[0].type, "marker");
  EXPECT_FALSE(s.opaques[0].unknown_fn);
  EXPECT_EQ(s.opaques[0].line, 21u);
  EXPECT_EQ(s.opaques[1].type, "event");
  EXPECT_TRUE(s.opaques[1].unknown_fn);
  EXPECT_NE(s.opaques[1].json.find("drm_gpuvm_bo_teleport"), std::string::npos);
}

TEST(JsonlReader, StringsOutliveLaterLines) {
  // The views in an Event stay valid for the whole read, not just for their line:
  // checked at the end of the read, before the reader is gone.
  struct Sink : RecordSink {
    std::vector<std::string_view> comms;
    bool all_valid = false;
    void on_header(const Header&) override {}
    void on_event(const Event& e) override { comms.push_back(e.comm); }
    void on_lost(const Lost&) override {}
    void on_stack(const StackRec&) override {}
    void on_footer(const Footer&) override {
      all_valid = comms.size() == 2000;
      for (size_t i = 0; i < comms.size(); ++i)
        all_valid = all_valid && comms[i] == "task-" + std::to_string(i % 50);
    }
  } s;
  std::string body;
  for (int i = 0; i < 2000; ++i)
    body += R"({"type":"event","ts":)" + std::to_string(i) + R"(,"tid":1,"comm":"task-)" + std::to_string(i % 50) +
            R"(","fn":"drm_gpuvm_bo_put","phase":"entry"})" + "\n";
  body += R"({"type":"footer"})" "\n";
  ASSERT_TRUE(read_trace(write_temp("strings.jsonl", kHeaderLine + "\n" + body), s).ok);
  EXPECT_TRUE(s.all_valid);
}

TEST(JsonlReader, MessyButValidInput) {
  // Comments, blank lines, CRLF, keys in any order, uppercase hex, unknown keys.
  RecordingSink s;
  ReadResult r = read_trace(data_path("messy.jsonl"), s);
  ASSERT_TRUE(r.ok) << r.error;
  std::string canon;
  for (auto& l : s.lines) canon += l + "\n";
  EXPECT_EQ(canon, read_file(data_path("messy.canonical.jsonl")));
  ASSERT_EQ(s.events.size(), 2u);
  EXPECT_EQ(s.events[0].line, 6u);
  EXPECT_EQ(s.events[1].line, 8u);
  EXPECT_EQ(s.header.line, 5u);
  EXPECT_EQ(s.header.feat_deferred, Tri::yes);
  EXPECT_EQ(s.header.feat_gpuva_mutex, Tri::absent);
  EXPECT_TRUE(r.footer);
}

TEST(JsonlReader, UnknownKeysAreIgnored) {
  RecordingSink plain, extra;
  ASSERT_TRUE(read_body(R"({"type":"event","ts":1,"tid":2,"fn":"drm_gpuvm_bo_put","phase":"entry","args":{"vm_bo":"0x10"}})"
                        "\n",
                        plain)
                  .ok);
  ASSERT_TRUE(read_body(R"({"type":"event","new":{"a":[1,{"b":2}]},"ts":1,"tid":2,"fn":"drm_gpuvm_bo_put","phase":"entry","args":{"zz":"0xnotanaddress","vm_bo":"0x10"},"snap":{"later":5}})"
                        "\n",
                        extra)
                  .ok);
  EXPECT_EQ(plain.lines, extra.lines);
}

TEST(JsonlReader, UnknownFunctionIsOpaqueNotFatal) {
  RecordingSink s;
  // fn after keys of types this version would reject: still an opaque record.
  ReadResult r = read_body(R"({"type":"event","ts":1,"tid":2,"phase":"sideways","args":{"vm_bo":5},"fn":"drm_gpuvm_bo_future"})"
                           "\n"
                           R"({"type":"event","ts":"later","tid":2,"fn":"drm_gpuvm_bo_other","phase":"entry"})"
                           "\n",
                           s);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(s.opaques.size(), 2u);
  EXPECT_TRUE(s.opaques[0].unknown_fn);
  EXPECT_TRUE(s.opaques[1].unknown_fn);
  EXPECT_EQ(s.opaques[1].line, 3u);
  EXPECT_TRUE(s.events.empty());
  EXPECT_EQ(r.skipped, 0u);
}

TEST(JsonlReader, UnknownFunctionLineMustStillBeJson) {
  RecordingSink s;
  ReadResult r = read_body(R"({"type":"event","ts":"x","tid":2,"phase":"entry","fn":"drm_gpuvm_bo_future"} junk)" "\n", s);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find(":2: "), std::string::npos) << r.error;
  r = read_body(R"({"type":"event","fn":"drm_gpuvm_bo_future","ts":1}})" "\n", s);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("not valid JSON"), std::string::npos) << r.error;
}

TEST(JsonlReader, ByteOrderMarkIsSkipped) {
  RecordingSink s;
  ReadResult r = read_text("bom.jsonl", "\xEF\xBB\xBF" + kHeaderLine + "\n", s);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(s.headers, 1);
}

TEST(JsonlReader, UnknownRecordTypeIsOpaque) {
  RecordingSink s;
  ReadResult r = read_body("{\"type\":\"checkpoint\",\"ts\":\"whatever\"}\n{\"type\":\"lost\",\"count\":1}\n", s);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(s.opaques.size(), 1u);
  EXPECT_EQ(s.opaques[0].type, "checkpoint");
  EXPECT_EQ(s.opaques[0].json, "{\"type\":\"checkpoint\",\"ts\":\"whatever\"}");
  EXPECT_EQ(r.records, 3u);
}

struct BadLine {
  const char* line;
  const char* error;  // expected substring of the error (after "FILE:2: ")
};

class MalformedLine : public testing::TestWithParam<BadLine> {};

TEST_P(MalformedLine, IsAnErrorNamingFileAndLine) {
  RecordingSink s;
  std::string path = write_temp("bad.jsonl", kHeaderLine + "\n" + GetParam().line + "\n" +
                                                 R"({"type":"lost","count":1})" + "\n");
  ReadResult r = read_trace(path, s);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error.rfind(path + ":2: ", 0), 0u) << r.error;
  EXPECT_NE(r.error.find(GetParam().error), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find('\n'), std::string::npos);
  EXPECT_EQ(s.lines.size(), 1u);  // the header only: reading stopped at line 2

  // --keep-going: skipped, counted, reading continues.
  RecordingSink k;
  ReadOptions opts;
  opts.keep_going = true;
  ReadResult rk = read_trace(path, k, opts);
  EXPECT_TRUE(rk.ok) << rk.error;
  EXPECT_EQ(rk.skipped, 1u);
  ASSERT_EQ(k.skipped_lines.size(), 1u);
  EXPECT_EQ(k.skipped_lines[0], 2u);
  EXPECT_NE(k.skipped_why[0].find(GetParam().error), std::string::npos);
  EXPECT_EQ(k.lines.size(), 2u);  // header + the lost record after the bad line
}

#define EV(rest) R"({"type":"event","ts":1,"tid":2,"fn":"drm_gpuvm_bo_put","phase":"entry")" rest "}"

INSTANTIATE_TEST_SUITE_P(
    Cases, MalformedLine,
    testing::Values(
        BadLine{R"({"type":"event","ts":1,)", "not valid JSON"},
        BadLine{R"({"type":"event","ts":1 "tid":2})", "not valid JSON"},
        BadLine{R"({"type":"lost","count":1}})", "not valid JSON"},
        BadLine{R"({"type":"lost","count":1} {"type":"lost","count":1})", "not valid JSON"},
        BadLine{R"({"type":"lost","count":1,})", "not valid JSON"},
        BadLine{"{\"type\":\"lost\",\"count\":1,\"x\":\"\xff\xfe\"}", "not valid JSON"},
        BadLine{R"(["type","event"])", "must be a JSON object"},
        BadLine{R"("event")", "must be a JSON object"},
        BadLine{R"({"ts":1,"tid":2})", "without \"type\""},
        BadLine{R"({"ts":1,"type":5})", "\"type\" must be a string"},
        BadLine{R"({"type":"event","ts":"1","tid":2,"fn":"drm_gpuvm_bo_put","phase":"entry"})", "\"ts\" must be an unsigned 64-bit integer, got \"1\""},
        BadLine{R"({"type":"event","ts":18446744073709551616,"tid":2,"fn":"drm_gpuvm_bo_put","phase":"entry"})", "\"ts\" must be an unsigned 64-bit integer, got 18446744073709551616"},
        BadLine{R"({"type":"event","ts":-5,"tid":2,"fn":"drm_gpuvm_bo_put","phase":"entry"})", "\"ts\" must be an unsigned 64-bit integer, got -5"},
        BadLine{R"({"type":"event","ts":5.0,"tid":2,"fn":"drm_gpuvm_bo_put","phase":"entry"})", "\"ts\" must be an unsigned 64-bit integer, got 5.0"},
        BadLine{R"({"type":"event","ts":5e3,"tid":2,"fn":"drm_gpuvm_bo_put","phase":"entry"})", "got 5e3"},
        BadLine{R"({"type":"event","ts":null,"tid":2,"fn":"drm_gpuvm_bo_put","phase":"entry"})", "got null"},
        BadLine{R"({"type":"event","ts":1,"tid":2147483648,"fn":"drm_gpuvm_bo_put","phase":"entry"})", "\"tid\" must be a 32-bit integer"},
        BadLine{EV(R"(,"cpu":-1)"), "\"cpu\" must be an unsigned 32-bit integer"},
        BadLine{EV(R"(,"cpu":4294967296)"), "\"cpu\" must be an unsigned 32-bit integer"},
        BadLine{EV(R"(,"pid":1.5)"), "\"pid\" must be a 32-bit integer"},
        BadLine{EV(R"(,"comm":7)"), "\"comm\" must be a string"},
        BadLine{EV(R"(,"args":{"vm_bo":"0xZZ"})"), "\"vm_bo\" must be an address string"},
        BadLine{EV(R"(,"args":{"vm_bo":"ffff9e3a022c45a0"})"), "\"vm_bo\" must be an address string"},
        BadLine{EV(R"(,"args":{"vm_bo":"0x"})"), "\"vm_bo\" must be an address string"},
        BadLine{EV(R"(,"args":{"vm_bo":"0x1ffff9e3a022c45a0"})"), "\"vm_bo\" must be an address string"},
        BadLine{EV(R"(,"args":{"vm_bo":12345})"), "\"vm_bo\" must be an address string"},
        BadLine{EV(R"(,"args":{"flags":"1"})"), "\"flags\" must be an unsigned 64-bit integer"},
        BadLine{EV(R"(,"args":{"evict":1})"), "\"evict\" must be true or false"},
        BadLine{EV(R"(,"args":{"name":null})"), "\"name\" must be a string"},
        BadLine{EV(R"(,"args":["vm_bo"])"), "\"args\" must be an object"},
        BadLine{EV(R"(,"snap":{"on_gem":"true"})"), "\"on_gem\" must be true or false"},
        BadLine{EV(R"(,"snap":{"held_bo_resv":"maybe"})"), "\"held_bo_resv\" must be \"yes\", \"no\" or \"unknown\""},
        BadLine{EV(R"(,"snap":{"held_bo_resv":true})"), "\"held_bo_resv\" must be \"yes\", \"no\" or \"unknown\""},
        BadLine{EV(R"(,"snap":{"refcount":9223372036854775808})"), "\"refcount\" must be a signed 64-bit integer"},
        BadLine{EV(R"(,"snap":{"vm_flags":-1})"), "\"vm_flags\" must be an unsigned 64-bit integer"},
        BadLine{EV(R"(,"snap":{"ops_vm_bo_free":null})"), "\"ops_vm_bo_free\" must be an address string"},
        BadLine{EV(R"(,"snap":5)"), "\"snap\" must be an object"},
        BadLine{EV(R"(,"ret":null)"), "\"ret\" must be an address string, a boolean or a signed 64-bit integer"},
        BadLine{EV(R"(,"ret":1.0)"), "\"ret\" must be an address string, a boolean or a signed 64-bit integer"},
        BadLine{EV(R"(,"ret":"0xq")"), "\"ret\" must be an address string"},
        BadLine{EV(R"(,"stack":-7)"), "\"stack\" must be an unsigned 64-bit integer"},
        BadLine{EV(R"(,"symbol":["x"])"), "\"symbol\" must be a string"},
        BadLine{R"({"type":"event","ts":1,"tid":2,"fn":"drm_gpuvm_bo_put","phase":"middle"})", "\"phase\" must be \"entry\" or \"exit\", got \"middle\""},
        BadLine{R"({"type":"event","ts":1,"tid":2,"fn":7,"phase":"entry"})", "\"fn\" must be a string"},
        BadLine{R"({"type":"event","tid":2,"fn":"drm_gpuvm_bo_put","phase":"entry"})", "event without required key \"ts\""},
        BadLine{R"({"type":"event","ts":1,"fn":"drm_gpuvm_bo_put","phase":"entry"})", "event without required key \"tid\""},
        BadLine{R"({"type":"event","ts":1,"tid":2,"phase":"entry"})", "event without required key \"fn\""},
        BadLine{R"({"type":"event","ts":1,"tid":2,"fn":"drm_gpuvm_bo_put"})", "event without required key \"phase\""},
        BadLine{R"({"type":"lost","ts":1})", "lost record without required key \"count\""},
        BadLine{R"({"type":"lost","count":-1})", "\"count\" must be an unsigned 64-bit integer"},
        BadLine{R"({"type":"stack","frames":[]})", "stack record without required key \"id\""},
        BadLine{R"({"type":"stack","id":1})", "stack record without required key \"frames\""},
        BadLine{R"({"type":"stack","id":1,"frames":[{"sym":"f"}]})", "stack frame without required key \"addr\""},
        BadLine{R"({"type":"stack","id":1,"frames":["0x1"]})", "\"frames\" must be an array of objects"},
        BadLine{R"({"type":"stack","id":1,"frames":{}})", "\"frames\" must be an array of frames"},
        BadLine{R"({"type":"stack","id":1,"frames":[{"addr":"0x1","sym":3}]})", "\"sym\" must be a string"},
        BadLine{R"({"type":"footer","events":1.5})", "\"events\" must be an unsigned 64-bit integer"},
        BadLine{R"({"type":"header","format":"gpuvm-trace","version":1})", "a second header record"},
        // Duplicate keys: first-wins or last-wins would be the reader's guess.
        BadLine{EV(R"(,"ts":2)"), "duplicate key \"ts\""},
        BadLine{R"({"type":"event","type":"footer","ts":1,"tid":2,"fn":"drm_gpuvm_bo_put","phase":"entry"})", "duplicate key \"type\""},
        BadLine{R"({"type":"footer","type":"event","ts":1,"tid":2,"fn":"drm_gpuvm_bo_put","phase":"entry"})", "duplicate key \"type\""},
        BadLine{EV(R"(,"args":{"vm_bo":"0x1","vm_bo":"0x2"})"), "duplicate key \"vm_bo\" in \"args\""},
        BadLine{EV(R"(,"snap":{"held_vm_resv":"unknown","held_vm_resv":"yes"})"), "duplicate key \"held_vm_resv\" in \"snap\""},
        BadLine{R"({"type":"lost","count":1,"count":2})", "duplicate key \"count\""}));

// The footer is the last record: what follows it is an error (concatenated traces),
// and a footer whose event count disagrees with the file means lines went missing.
TEST(JsonlReader, RecordAfterFooterIsAnError) {
  RecordingSink s;
  std::string body = std::string(R"({"type":"footer","events":0})") + "\n" + R"({"type":"lost","count":1})" + "\n";
  ReadResult r = read_body(body, s);
  ASSERT_FALSE(r.ok);
  EXPECT_NE(r.error.find(":3: a record after the footer"), std::string::npos) << r.error;
  RecordingSink k;
  ReadOptions o;
  o.keep_going = true;
  ReadResult rk = read_body(body, k, o);
  ASSERT_TRUE(rk.ok) << rk.error;
  EXPECT_EQ(rk.skipped, 1u);
}

TEST(JsonlReader, FooterEventCountMismatchIsAnError) {
  RecordingSink s;
  std::string ev = R"({"type":"event","ts":1,"tid":2,"fn":"drm_gpuvm_bo_put","phase":"entry"})";
  ReadResult ok = read_body(ev + "\n" + ev + "\n" + R"({"type":"footer","events":2})" + "\n", s);
  EXPECT_TRUE(ok.ok) << ok.error;
  ReadResult r = read_body(ev + "\n" + R"({"type":"footer","events":2})" + "\n", s);
  ASSERT_FALSE(r.ok);
  EXPECT_NE(r.error.find(":3: the footer counts 2 events but the trace has 1"), std::string::npos) << r.error;
  ReadOptions o;
  o.keep_going = true;  // skipped lines explain a difference: a note then
  ReadResult rk = read_body(ev + "\n" + R"({"type":"footer","events":2})" + "\n", s, o);
  ASSERT_TRUE(rk.ok);
  EXPECT_NE(rk.note.find("the footer counts 2 events"), std::string::npos) << rk.note;
}

TEST(JsonlReader, KeepGoingListsTheFirstSkippedLines) {
  RecordingSink s;
  ReadOptions opts;
  opts.keep_going = true;
  std::string body;
  for (int i = 0; i < 15; ++i) body += "{bad\n";
  ReadResult r = read_body(body, s, opts);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.skipped, 15u);
  ASSERT_EQ(r.skipped_list.size(), ReadResult::kMaxSkippedListed);
  EXPECT_EQ(r.skipped_list[0].rfind("2: not valid JSON", 0), 0u) << r.skipped_list[0];
  EXPECT_EQ(r.skipped_list[9].rfind("11: ", 0), 0u) << r.skipped_list[9];
}

TEST(JsonlReader, KeepGoingCountsEverySkippedLine) {
  RecordingSink s;
  ReadOptions opts;
  opts.keep_going = true;
  ReadResult r = read_body("{bad\n"
                           R"({"type":"lost","count":1})" "\n"
                           "# comment\n"
                           R"({"type":"event","ts":-1,"tid":1,"fn":"drm_gpuvm_bo_put","phase":"entry"})" "\n"
                           R"({"type":"lost","count":2})" "\n",
                           s, opts);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.skipped, 2u);
  EXPECT_EQ(s.skipped_lines, (std::vector<uint64_t>{2, 5}));
  EXPECT_EQ(r.records, 3u);
}

TEST(JsonlReader, MissingHeader) {
  RecordingSink s;
  std::string path = write_temp("nohdr.jsonl", R"({"type":"lost","count":1})" "\n");
  ReadResult r = read_trace(path, s);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error.rfind(path + ":1: expected the header record first", 0), 0u) << r.error;
  EXPECT_NE(r.error.find("\"format\":\"gpuvm-trace\""), std::string::npos);
  EXPECT_NE(r.error.find("got a \"lost\" record"), std::string::npos);
  EXPECT_TRUE(s.lines.empty());

  // keep_going does not make a missing header acceptable.
  ReadOptions opts;
  opts.keep_going = true;
  EXPECT_FALSE(read_trace(path, s, opts).ok);
}

TEST(JsonlReader, HeaderNotFirst) {
  RecordingSink s;
  std::string path = write_temp("late.jsonl", "# comment\n\n" R"({"type":"event","ts":1,"tid":1,"fn":"drm_gpuvm_bo_put","phase":"entry"})" "\n" +
                                                   kHeaderLine + "\n");
  ReadResult r = read_trace(path, s);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error.rfind(path + ":3: expected the header record first", 0), 0u) << r.error;
}

TEST(JsonlReader, EmptyAndCommentOnlyFiles) {
  RecordingSink s;
  std::string empty = write_temp("empty.jsonl", "");
  ReadResult r = read_trace(empty, s);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find(empty + ": empty file"), std::string::npos) << r.error;

  std::string comments = write_temp("comments.jsonl", "# nothing\n\n# here\n");
  r = read_trace(comments, s);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("no header"), std::string::npos) << r.error;
  EXPECT_TRUE(s.lines.empty());
}

TEST(JsonlReader, BadHeaders) {
  struct Case {
    std::string line, error;
  } cases[] = {
      {R"({"type":"header","format":"perf","version":1})", "\"format\" is \"perf\", expected \"gpuvm-trace\""},
      {R"({"type":"header","version":1})", "header without required key \"format\""},
      {R"({"type":"header","format":"gpuvm-trace"})", "header without required key \"version\""},
      {R"({"type":"header","format":"gpuvm-trace","version":"1"})", "\"version\" must be a signed 64-bit integer"},
      {R"({"type":"header","format":"gpuvm-trace","version":0})", "unsupported trace format version 0"},
      {R"({"type":"header","format":"gpuvm-trace","version":1,"redacted":"no"})", "\"redacted\" must be true or false"},
      {R"({"type":"header","format":"gpuvm-trace","version":1,"features":{"deferred":"yes"}})", "\"deferred\" must be true or false"},
      {R"({"type":"header","format":"gpuvm-trace","version":1,"coverage":{"put":true}})", "\"put\" must be a string"},
      {R"({"type":"header","format":"gpuvm-trace","version":1)", "not valid JSON"},
  };
  for (auto& c : cases) {
    RecordingSink s;
    std::string path = write_temp("hdr.jsonl", c.line + "\n" + R"({"type":"lost","count":1})" + "\n");
    ReadResult r = read_trace(path, s);
    EXPECT_FALSE(r.ok) << c.line;
    EXPECT_EQ(r.error.rfind(path + ":1: ", 0), 0u) << r.error;
    EXPECT_NE(r.error.find(c.error), std::string::npos) << r.error;
    EXPECT_EQ(s.headers, 0);
  }
}

TEST(JsonlReader, FutureVersion) {
  RecordingSink s;
  // A newer header may change the types of keys we know: the version wins.
  std::string path = write_temp("v2.jsonl", R"({"type":"header","format":"gpuvm-trace","features":"all","version":2})" "\n");
  ReadResult r = read_trace(path, s);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, path + ": trace format version 2 is newer than this gpuvm-trace (reads 1): upgrade gpuvm-trace");
}

TEST(JsonlReader, TruncatedLastLineIsNotAnError) {
  RecordingSink s;
  std::string path = write_temp("cut.jsonl", kHeaderLine + "\n" + R"({"type":"lost","count":1})" + "\n# c\n" +
                                                 R"({"type":"event","ts":12,"tid":1,"fn":"drm_gpu)");
  ReadResult r = read_trace(path, s);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.truncated);
  EXPECT_FALSE(r.footer);
  EXPECT_EQ(r.note, path + ": ends in an incomplete line 4 (recorder killed?); read the 3 complete lines");
  EXPECT_EQ(r.records, 2u);

  // Cut inside a number: the bytes after the buffer end must not extend it.
  std::string num = write_temp("cutnum.jsonl", kHeaderLine + "\n" + R"({"type":"lost","count":12)");
  r = read_trace(num, s);
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(r.truncated);
}

TEST(JsonlReader, LastLineWithoutNewlineIsFine) {
  RecordingSink s;
  ReadResult r = read_body(R"({"type":"footer"})", s);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_FALSE(r.truncated);
  EXPECT_TRUE(r.footer);
  EXPECT_EQ(r.note, "");
}

TEST(JsonlReader, MalformedLastLineWithNewlineIsAnError) {
  RecordingSink s;
  ReadResult r = read_body("{\"type\":\"lost\",\"count\":\n", s);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.truncated);
}

TEST(JsonlReader, NoFooterNote) {
  RecordingSink s;
  std::string path = write_temp("nofoot.jsonl", kHeaderLine + "\n");
  ReadResult r = read_trace(path, s);
  EXPECT_TRUE(r.ok);
  EXPECT_FALSE(r.footer);
  EXPECT_EQ(r.note, path + ": the trace ended without a footer (recorder killed or still running?)");
}

TEST(JsonlReader, UnreadableFiles) {
  RecordingSink s;
  ReadResult r = read_trace("/nonexistent/dir/trace.jsonl", s);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "/nonexistent/dir/trace.jsonl: cannot open: No such file or directory");
  r = read_trace(temp_path(""), s);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("is a directory"), std::string::npos) << r.error;
}

TEST(JsonlReader, LinesAcrossBlockBoundariesAndLongLines) {
  // Many lines (several 1 MiB refills) and one line longer than the block.
  std::string body;
  const int n = 30000;
  for (int i = 0; i < n; ++i)
    body += R"({"type":"event","ts":)" + std::to_string(i) +
            R"(,"cpu":0,"pid":10,"tid":10,"comm":"x","fn":"ww_mutex_unlock","phase":"entry","args":{"lock":"0xffff9e3a01a87300"},"snap":{"held":"yes"}})" "\n";
  body += R"({"type":"event","ts":1,"tid":1,"fn":"drm_gpuvm_bo_put","phase":"entry","pad":")" + std::string(3 << 20, 'x') + "\"}\n";
  body += R"({"type":"footer"})" "\n";
  RecordingSink s;
  ReadResult r = read_body(body, s);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(s.events.size(), static_cast<size_t>(n + 1));
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(s.events[i].ts, static_cast<uint64_t>(i));
    ASSERT_EQ(s.events[i].line, static_cast<uint64_t>(i + 2));
  }
  EXPECT_EQ(s.events[n].line, static_cast<uint64_t>(n + 2));
  EXPECT_TRUE(r.footer);
}

}  // namespace
}  // namespace gvt::test
