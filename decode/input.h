// SPDX-License-Identifier: GPL-2.0-only
// Input plumbing shared by the readers: an open file or stdin (RAII), a read-only
// mapping of a regular file, and a byte stream that first replays the bytes already
// consumed to detect the format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace gvt {

class InputFile {
 public:
  // "-" is standard input. On failure valid() is false and error says why (one line,
  // naming the path and the system's reason).
  explicit InputFile(const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  bool valid() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }
  const std::string& name() const { return name_; }  // for messages
  int fd() const { return fd_; }
  bool is_stdin() const { return is_stdin_; }
  bool regular() const { return regular_; }
  uint64_t size() const { return size_; }

  // Up to n bytes; 0 at end of file; -1 on error (errno set). Retries EINTR.
  ssize_t read_some(void* dst, size_t n);
  // Fills dst with n bytes unless the file ends first; returns the count or -1.
  ssize_t read_full(void* dst, size_t n);

 private:
  int fd_ = -1;
  bool is_stdin_ = false;
  bool regular_ = false;
  uint64_t size_ = 0;
  std::string name_;
  std::string error_;
};

// A read-only private mapping of a whole regular file.
class Mapping {
 public:
  Mapping() = default;
  Mapping(int fd, size_t size);  // check data() != nullptr
  ~Mapping();
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // Drops the pages before `offset` from this process (they stay in the page cache):
  // a long sequential read then keeps a bounded resident set instead of the file size.
  void release_before(size_t offset);

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t released_ = 0;
};

// Bytes of an input read sequentially: the prefix already read, then the file.
class ByteStream {
 public:
  ByteStream(InputFile& in, std::string_view prefix) : in_(in), prefix_(prefix) {}
  // Fills dst with n bytes unless input ends first; returns the count, -1 on error.
  ssize_t read(void* dst, size_t n);

 private:
  InputFile& in_;
  std::string_view prefix_;
};

std::string errno_text(int err);  // strerror, thread-safe

}  // namespace gvt
