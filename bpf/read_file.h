// SPDX-License-Identifier: GPL-2.0-only
// The whole of a file (a sysfs or procfs file, a kernel module): the one reader of
// bpf/ for files it does not parse as a stream.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace gvt::bpf {

// False when the file cannot be opened (errno says why).
inline bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = std::move(ss).str();
  return true;
}

}  // namespace gvt::bpf
