// SPDX-License-Identifier: GPL-2.0-only
// Shared oracle of the libFuzzer targets (tests/decode/fuzz/*.cpp). Beyond "no crash":
//   - a reader's error or note is one line, and an error is never empty;
//   - whatever a reader accepts, both writers write, and reading either output back
//     gives the same records (as canonical JSONL text), in the same order.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

#include <simdjson.h>

#include "decode/json_text.h"
#include "decode/trace_io.h"

namespace gvt::fuzz {

// Every record as canonical JSONL text, plus checks on what a reader may hand out.
struct Collect : RecordSink {
  std::vector<std::string> lines;
  Header header;
  std::vector<Event> events;
  std::vector<StackRec> stacks;
  std::vector<Lost> losts;
  std::vector<Footer> footers;
  std::vector<Opaque> opaques;
  std::vector<char> order;  // h e s l f o
  std::deque<std::string> strings;  // the reader's views die with the read: copies
  // Kernel strings (comm) need not be UTF-8: JSONL writes U+FFFD for bad bytes, a
  // documented loss, so the JSONL round trip is exact only when this stays true.
  bool utf8 = true;
  static bool valid_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

  void on_header(const Header& h) override {
    header = h;
    order.push_back('h');
    add([&](std::string& s) { json::append_header(s, h); });
  }
  void on_event(const Event& e) override {
    if (e.fn == Fn::unknown || e.fn >= Fn::count_) abort();  // must have been Opaque
    if (static_cast<unsigned>(e.ret_kind) > static_cast<unsigned>(RetKind::integer)) abort();
    for (unsigned f = 0; f < FIELD_COUNT_; ++f)
      if (!e.has(static_cast<Field>(f)) && e.v[f] != 0) abort();  // absent reads 0
    for (std::string_view v : {e.comm, e.name, e.vm_name, e.symbol}) utf8 = utf8 && valid_utf8(v);
    Event& c = events.emplace_back(e);
    for (std::string_view* v : {&c.comm, &c.name, &c.vm_name, &c.symbol})
      if (!v->empty()) *v = strings.emplace_back(*v);
    order.push_back('e');
    add([&](std::string& s) { json::append_event(s, e); });
  }
  void on_lost(const Lost& l) override {
    losts.push_back(l);
    order.push_back('l');
    add([&](std::string& s) { json::append_lost(s, l); });
  }
  void on_stack(const StackRec& st) override {
    for (const Frame& f : st.frames) utf8 = utf8 && valid_utf8(f.sym) && valid_utf8(f.module);
    stacks.push_back(st);
    order.push_back('s');
    add([&](std::string& s) { json::append_stack(s, st); });
  }
  void on_footer(const Footer& f) override {
    footers.push_back(f);
    order.push_back('f');
    add([&](std::string& s) { json::append_footer(s, f); });
  }
  void on_opaque(const Opaque& o) override {
    opaques.push_back(o);
    order.push_back('o');
    add([&](std::string& s) { json::append_opaque(s, o); });
  }
  template <class F>
  void add(F f) {
    std::string s;
    f(s);
    if (s.find('\n') != std::string::npos) abort();  // one record, one line
    lines.push_back(std::move(s));
  }
};

// A memfd per name, reused across runs (files on disk would slow the fuzzer down).
inline std::string memfile(int slot, const std::string& content) {
  static int fds[4] = {-1, -1, -1, -1};
  int& fd = fds[slot];
  if (fd < 0) fd = memfd_create("fuzz-trace", 0);
  if (fd < 0 || ftruncate(fd, 0) != 0 ||
      pwrite(fd, content.data(), content.size(), 0) != static_cast<ssize_t>(content.size()))
    abort();
  return "/proc/self/fd/" + std::to_string(fd);
}
inline std::string memfile_path(int slot) { return memfile(slot, ""); }

inline void check_result(const ReadResult& r) {
  if (!r.ok && r.error.empty()) abort();
  if (r.error.find('\n') != std::string::npos || r.note.find('\n') != std::string::npos) abort();
}

// Replays `c`'s records into a writer of each format, reads each output back with
// `opts` and requires the same canonical records.
inline void round_trip(const Collect& c, const ReadOptions& opts) {
  if (c.order.empty() || c.order[0] != 'h') return;  // nothing accepted
  // What the writers must give back: the same records, except that a footer's event
  // count becomes the number of events actually written before it.
  std::vector<std::string> want = c.lines;
  {
    uint64_t written = 0;
    size_t ie = 0, io = 0, iff = 0;
    for (size_t i = 0; i < c.order.size(); ++i) {
      switch (c.order[i]) {
        case 'e': ++written; ++ie; break;
        case 'o': written += c.opaques[io++].unknown_fn; break;
        case 'f': {
          Footer ft = c.footers[iff++];
          if (ft.events) ft.events = written;
          want[i].clear();
          json::append_footer(want[i], ft);
          break;
        }
      }
    }
    (void)ie;
  }
  for (Format fmt : {Format::jsonl, Format::gvt}) {
    std::string path = memfile_path(fmt == Format::jsonl ? 1 : 2);
    {
      auto w = make_writer(path, fmt);
      size_t ie = 0, is = 0, il = 0, iff = 0, io = 0;
      for (char k : c.order) {
        switch (k) {
          case 'h': w->on_header(c.header); break;
          case 'e': w->on_event(c.events[ie++]); break;
          case 's': w->on_stack(c.stacks[is++]); break;
          case 'l': w->on_lost(c.losts[il++]); break;
          case 'f': w->on_footer(c.footers[iff++]); break;
          case 'o': w->on_opaque(c.opaques[io++]); break;
        }
      }
      w->close();
    }
    Collect back;
    ReadResult r = read_trace(path, back, opts);
    check_result(r);
    if (!r.ok) abort();  // what we wrote must read
    if (fmt == Format::gvt || c.utf8) {
      if (back.lines != want) abort();  // and say the same
    } else if (back.lines.size() != want.size()) {
      abort();
    }
  }
}

}  // namespace gvt::fuzz
