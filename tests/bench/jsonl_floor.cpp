// SPDX-License-Identifier: GPL-2.0-only
// gvt-jsonl-floor FILE: the floor for the JSONL reader in tests/bench/run.sh. Reads
// the file as the reader does (read() into a block, split at newlines) and parses
// every line with simdjson On-Demand built for this machine's CPU (-march=native when
// the compiler has it), visiting every key and converting every value to its type.
// No checks, no records, no model: what any On-Demand consumer of the file would pay.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

#include <simdjson.h>

namespace {

namespace od = simdjson::ondemand;

uint64_t touch(od::value v);

uint64_t touch_object(od::object o) {
  uint64_t sum = 0;
  for (auto fr : o) {
    od::field f;
    if (std::move(fr).get(f)) return sum;
    std::string_view key;
    if (f.unescaped_key().get(key)) return sum;
    sum += key.size() + touch(f.value());
  }
  return sum;
}

uint64_t touch(od::value v) {
  od::json_type t;
  if (v.type().get(t)) return 0;
  switch (t) {
    case od::json_type::object: {
      od::object o;
      return v.get_object().get(o) ? 0 : touch_object(o);
    }
    case od::json_type::array: {
      od::array a;
      if (v.get_array().get(a)) return 0;
      uint64_t sum = 0;
      for (auto x : a) {
        od::value xv;
        if (!std::move(x).get(xv)) sum += touch(xv);
      }
      return sum;
    }
    case od::json_type::string: {
      std::string_view s;
      return v.get_string().get(s) ? 0 : s.size();
    }
    case od::json_type::number: {
      uint64_t u;
      if (!v.get_uint64().get(u)) return u;
      int64_t i;
      if (!v.get_int64().get(i)) return static_cast<uint64_t>(i);
      double d;
      return v.get_double().get(d) ? 0 : static_cast<uint64_t>(d);
    }
    case od::json_type::boolean: {
      bool b;
      return v.get_bool().get(b) ? 0 : b;
    }
    case od::json_type::null: return v.is_null();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: gvt-jsonl-floor FILE.jsonl\n");
    return 2;
  }
  int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::perror(argv[1]);
    return 2;
  }
  constexpr size_t kBlock = 4u << 20;  // as decode/jsonl_reader.cpp
  size_t cap = kBlock;
  auto buf = std::make_unique<char[]>(cap + simdjson::SIMDJSON_PADDING);
  size_t end = 0;
  od::parser parser;
  uint64_t lines = 0, sum = 0, bad = 0;
  for (bool eof = false; !eof;) {
    ssize_t r = read(fd, buf.get() + end, cap - end);
    if (r < 0) {
      std::perror("read");
      return 2;
    }
    eof = r == 0;
    end += static_cast<size_t>(r);
    std::memset(buf.get() + end, 0, simdjson::SIMDJSON_PADDING);
    size_t pos = 0;
    for (;;) {
      const char* nl = static_cast<const char*>(std::memchr(buf.get() + pos, '\n', end - pos));
      if (!nl && !(eof && pos < end)) break;
      size_t len = nl ? static_cast<size_t>(nl - (buf.get() + pos)) : end - pos;
      od::document doc;
      od::object obj;
      if (len && !parser.iterate(buf.get() + pos, len, len + simdjson::SIMDJSON_PADDING).get(doc) &&
          !doc.get_object().get(obj)) {
        sum += touch_object(obj);
        ++lines;
      } else if (len) {
        ++bad;
      }
      pos += len + (nl ? 1 : 0);
      if (!nl) break;
    }
    std::memmove(buf.get(), buf.get() + pos, end - pos);
    end -= pos;
    if (end == cap) {  // a line longer than the block
      auto nbuf = std::make_unique<char[]>(2 * cap + simdjson::SIMDJSON_PADDING);
      std::memcpy(nbuf.get(), buf.get(), end);
      buf = std::move(nbuf);
      cap *= 2;
    }
  }
  close(fd);
  std::printf("{\"lines\":%llu,\"bad\":%llu,\"sum\":%llu,\"implementation\":\"%s\"}\n",
              static_cast<unsigned long long>(lines), static_cast<unsigned long long>(bad),
              static_cast<unsigned long long>(sum), SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION));
  return bad ? 1 : 0;
}
