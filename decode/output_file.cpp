// SPDX-License-Identifier: GPL-2.0-only
#include "decode/output_file.h"

#include <cerrno>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

#include "decode/input.h"

namespace gvt {

OutputFile::OutputFile(const std::string& path) {
  is_stdout_ = path == "-";
  name_ = is_stdout_ ? "<stdout>" : path;
  // 0600: traces hold kernel heap pointers and symbolized kernel addresses (a KASLR
  // leak), so no one else may read them. An existing file keeps its inode but loses
  // its group/other bits too; a device or pipe is left as it is.
  fd_ = is_stdout_ ? STDOUT_FILENO : ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) throw std::runtime_error(path + ": cannot create: " + errno_text(errno));
  struct stat st;
  if (!is_stdout_ && ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) &&
      ::fchmod(fd_, st.st_mode & 0700) != 0) {
    int e = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(path + ": cannot make it private (mode 0600): " + errno_text(e));
  }
}

OutputFile::~OutputFile() {
  if (fd_ >= 0 && !is_stdout_) ::close(fd_);
}

void OutputFile::write_all(const void* data, size_t n) {
  if (fd_ < 0) throw std::runtime_error(name_ + ": write after close");
  auto* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(name_ + ": write error: " + errno_text(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
    bytes_ += static_cast<uint64_t>(w);
  }
}

void OutputFile::close() {
  if (fd_ < 0) return;
  int fd = fd_;
  fd_ = -1;
  if (is_stdout_) return;
  if (::close(fd) != 0) throw std::runtime_error(name_ + ": close error: " + errno_text(errno));
}

}  // namespace gvt
