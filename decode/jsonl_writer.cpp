// SPDX-License-Identifier: GPL-2.0-only
// JSON Lines writer: canonical text of decode/json_text.h, buffered, always written
// out in whole lines so a killed writer leaves no torn record behind a flush.
#include <string>

#include "decode/json_text.h"
#include "decode/output_file.h"
#include "decode/writers.h"

namespace gvt {
namespace {

constexpr size_t kFlushAt = 64 * 1024;

class JsonlWriter final : public TraceWriter {
 public:
  explicit JsonlWriter(const std::string& path) : out_(path) { buf_.reserve(kFlushAt + 4096); }
  ~JsonlWriter() override {
    try {
      close();
    } catch (...) {
      // A destructor cannot report; callers who care call close() themselves.
    }
  }

  void on_header(const Header& h) override { line([&] { json::append_header(buf_, h); }); }
  void on_event(const Event& e) override {
    ++events_;
    line([&] { json::append_event(buf_, e); });
  }
  void on_lost(const Lost& l) override { line([&] { json::append_lost(buf_, l); }); }
  void on_stack(const StackRec& s) override { line([&] { json::append_stack(buf_, s); }); }
  // The footer's event count describes this file: what was written, not what the
  // input claimed (--keep-going skipped lines, --salvage skipped chunks).
  void on_footer(const Footer& f) override {
    Footer ft = f;
    if (ft.events) ft.events = events_;
    line([&] { json::append_footer(buf_, ft); });
  }
  void on_opaque(const Opaque& o) override {
    if (o.unknown_fn) ++events_;  // an event of a newer recorder: readers count it too
    line([&] { json::append_opaque(buf_, o); });
  }

  void flush() override {
    if (buf_.empty()) return;
    out_.write_all(buf_.data(), buf_.size());
    buf_.clear();
  }
  void close() override {
    if (closed_) return;
    closed_ = true;
    flush();
    out_.close();
  }
  uint64_t bytes_written() const override { return out_.bytes() + buf_.size(); }

 private:
  template <typename F>
  void line(F&& append) {
    append();
    buf_ += '\n';
    if (buf_.size() >= kFlushAt) flush();
  }

  OutputFile out_;
  std::string buf_;
  bool closed_ = false;
  uint64_t events_ = 0;  // events written (the footer says this many)
};

}  // namespace

std::unique_ptr<TraceWriter> make_jsonl_writer(const std::string& path) {
  return std::make_unique<JsonlWriter>(path);
}

}  // namespace gvt
