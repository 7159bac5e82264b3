// SPDX-License-Identifier: GPL-2.0-only
#include "decode/input.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gvt {

std::string errno_text(int err) {
  char buf[256];
  // GNU strerror_r returns the message pointer (maybe not buf).
  return strerror_r(err, buf, sizeof buf);
}

InputFile::InputFile(const std::string& path) {
  is_stdin_ = path == "-";
  name_ = is_stdin_ ? "<stdin>" : path;
  int fd = is_stdin_ ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error_ = path + ": cannot open: " + errno_text(errno);
    return;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    error_ = name_ + ": cannot stat: " + errno_text(errno);
    if (!is_stdin_) ::close(fd);
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    error_ = name_ + ": is a directory, not a trace file";
    if (!is_stdin_) ::close(fd);
    return;
  }
  regular_ = S_ISREG(st.st_mode);
  size_ = regular_ ? static_cast<uint64_t>(st.st_size) : 0;
  if (regular_) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  fd_ = fd;
}

InputFile::~InputFile() {
  if (fd_ >= 0 && !is_stdin_) ::close(fd_);
}

ssize_t InputFile::read_some(void* dst, size_t n) {
  for (;;) {
    ssize_t r = ::read(fd_, dst, n);
    if (r >= 0 || errno != EINTR) return r;
  }
}

ssize_t InputFile::read_full(void* dst, size_t n) {
  size_t got = 0;
  auto* p = static_cast<char*>(dst);
  while (got < n) {
    ssize_t r = read_some(p + got, n - got);
    if (r < 0) return -1;
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

Mapping::Mapping(int fd, size_t size) {
  if (size == 0) return;
  void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) return;
  madvise(p, size, MADV_SEQUENTIAL);  // read once, front to back
  data_ = static_cast<const uint8_t*>(p);
  size_ = size;
}

void Mapping::release_before(size_t offset) {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t end = std::min(offset, size_) / page * page;
  if (!data_ || end <= released_) return;
  madvise(const_cast<uint8_t*>(data_) + released_, end - released_, MADV_DONTNEED);
  released_ = end;
}

Mapping::~Mapping() {
  if (data_) munmap(const_cast<uint8_t*>(data_), size_);
}

ssize_t ByteStream::read(void* dst, size_t n) {
  auto* p = static_cast<char*>(dst);
  size_t from_prefix = std::min(n, prefix_.size());
  std::memcpy(p, prefix_.data(), from_prefix);
  prefix_.remove_prefix(from_prefix);
  if (from_prefix == n) return static_cast<ssize_t>(n);
  ssize_t r = in_.read_full(p + from_prefix, n - from_prefix);
  if (r < 0) return -1;
  return static_cast<ssize_t>(from_prefix) + r;
}

}  // namespace gvt
