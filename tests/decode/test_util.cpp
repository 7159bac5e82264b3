// SPDX-License-Identifier: GPL-2.0-only
#include "test_util.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "decode/json_text.h"

namespace gvt::test {

void RecordingSink::on_header(const Header& h) {
  ++headers;
  header = h;
  std::string s;
  json::append_header(s, h);
  lines.push_back(s);
}
void RecordingSink::on_event(const Event& e) {
  Event& c = events.emplace_back(e);
  for (std::string_view* v : {&c.comm, &c.name, &c.vm_name, &c.symbol})
    if (!v->empty()) *v = strings.emplace_back(*v);
  std::string s;
  json::append_event(s, e);
  lines.push_back(s);
}
void RecordingSink::on_lost(const Lost& l) {
  std::string s;
  json::append_lost(s, l);
  lines.push_back(s);
}
void RecordingSink::on_stack(const StackRec& st) {
  std::string s;
  json::append_stack(s, st);
  lines.push_back(s);
}
void RecordingSink::on_footer(const Footer& f) {
  std::string s;
  json::append_footer(s, f);
  lines.push_back(s);
}
void RecordingSink::on_opaque(const Opaque& o) {
  opaques.push_back(o);
  std::string s;
  json::append_opaque(s, o);
  lines.push_back(s);
}
void RecordingSink::on_skipped(uint64_t line, std::string_view why) {
  skipped_lines.push_back(line);
  skipped_why.emplace_back(why);
}

namespace {
// One directory per test process, removed when the process exits.
struct TempDir {
  std::filesystem::path dir;
  TempDir() {
    dir = std::filesystem::temp_directory_path() / ("gvt-decode-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};
}  // namespace

std::string temp_path(const std::string& name) {
  static TempDir t;
  return (t.dir / name).string();
}

std::string write_temp(const std::string& name, const std::string& content) {
  std::string p = temp_path(name);
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
  return p;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string data_path(const std::string& name) { return std::string(GVT_DECODE_DATA) + "/" + name; }

ReadResult convert(const std::string& in, const std::string& out, Format fmt) {
  auto w = make_writer(out, fmt);
  ReadResult r = read_trace(in, *w);
  w->close();
  return r;
}

}  // namespace gvt::test
