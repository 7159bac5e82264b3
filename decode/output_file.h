// SPDX-License-Identifier: GPL-2.0-only
// A file (or stdout) the writers append whole buffers to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace gvt {

class OutputFile {
 public:
  // "-" is standard output (never closed here). Throws std::runtime_error with a
  // one-line cause when the file cannot be created.
  explicit OutputFile(const std::string& path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // Writes all n bytes (retrying short writes); throws std::runtime_error on failure.
  void write_all(const void* data, size_t n);
  // Closes the file; throws when the close reports a deferred write error.
  void close();
  uint64_t bytes() const { return bytes_; }
  const std::string& name() const { return name_; }

 private:
  int fd_ = -1;
  bool is_stdout_ = false;
  uint64_t bytes_ = 0;
  std::string name_;
};

}  // namespace gvt
