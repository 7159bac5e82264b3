// SPDX-License-Identifier: GPL-2.0-only
// The header's optional "filter" key (record --tid/--vm): written by
// with_header_filter, carried verbatim by both formats, read back by header_filter.
#include <gtest/gtest.h>

#include "decode/header_filter.h"
#include "decode/trace_io.h"
#include "test_util.h"

namespace gvt {
namespace {

Header live_like_header() {
  // What the tracer hands out: fields only, no raw text.
  Header h;
  h.kernel = "6.12.95+deb12-amd64";
  h.clock = "monotonic";
  h.coverage_put = "complete";
  h.coverage_locks = "complete";
  return h;
}

// Writes a trace with header `h` in `fmt`, reads it back, returns the header read.
Header round_trip(const Header& h, Format fmt, const std::string& name) {
  std::string path = test::temp_path(name);
  {
    auto w = make_writer(path, fmt);
    w->on_header(h);
    w->on_footer(Footer{});
    w->close();
  }
  test::RecordingSink sink;
  ReadResult r = read_trace(path, sink);
  EXPECT_TRUE(r.ok) << r.error;
  return sink.header;
}

TEST(HeaderFilter, SurvivesBothFormats) {
  HeaderFilter f;
  f.tids = {151, 152};
  f.vm = 0xffff9e3a01a86600ull;
  Header h = with_header_filter(live_like_header(), f);
  EXPECT_NE(h.raw_json.find(R"("filter":{"tid":[151,152],"vm":"0xffff9e3a01a86600"})"), std::string::npos)
      << h.raw_json;
  for (Format fmt : {Format::jsonl, Format::gvt}) {
    Header back = round_trip(h, fmt, fmt == Format::gvt ? "hf.gvt" : "hf.jsonl");
    EXPECT_EQ(back.coverage_put, "complete");  // the rest of the header is intact
    auto got = header_filter(back);
    ASSERT_TRUE(got.has_value()) << back.raw_json;
    EXPECT_EQ(got->tids, f.tids);
    EXPECT_EQ(got->vm, f.vm);
    EXPECT_EQ(header_filter_text(*got), "--tid 151 --tid 152 --vm 0xffff9e3a01a86600");
  }
}

TEST(HeaderFilter, AbsentEmptyOrMalformedMeansNone) {
  EXPECT_FALSE(header_filter(live_like_header()).has_value());
  // No filter asked: the header is left exactly as it was.
  EXPECT_TRUE(with_header_filter(live_like_header(), HeaderFilter{}).raw_json.empty());
  for (const char* bad : {R"({"type":"header","filter":{"tid":["x"]}})", R"({"type":"header","filter":{"vm":"12"}})",
                          R"({"type":"header","filter":{"tid":[-1]}})", R"({"type":"header","filter":{}})",
                          R"({"type":"header","filter":7})"}) {
    Header h;
    h.raw_json = bad;
    EXPECT_FALSE(header_filter(h).has_value()) << bad;
  }
}

}  // namespace
}  // namespace gvt
