// SPDX-License-Identifier: GPL-2.0-only
// Running the built gpuvm-trace binary from the CLI tests: its output, error output
// and exit status, with per-test scratch files.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace gvt_cli_test {

inline const std::string kBin = GVT_BIN;
inline const std::string kData = GVT_CLI_DATA;

inline std::string data(const std::string& name) { return kData + "/" + name; }

// A per-test scratch path, so ctest -j can run tests side by side.
inline std::string tmp(const std::string& suffix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(GVT_CLI_TMP) + "/" + info->test_suite_name() + "." + info->name() + "." + suffix;
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Proc {
  int status = -1;
  std::string out;
  std::string err;
};

// `args` is passed through sh: quote paths that need it.
inline Proc run(const std::string& args, const std::string& env = "") {
  Proc r;
  std::string errf = tmp("stderr");
  std::string cmd = env + " '" + kBin + "' " + args + " 2>'" + errf + "'";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r.err = slurp(errf);
  std::remove(errf.c_str());
  return r;
}

// Runs the binary with a pseudo-terminal as stdout and stderr (script(1), util-linux)
// under `env ENV`, returns what the terminal got.
inline std::string on_tty(const std::string& args, const std::string& env = "NO_COLOR=1 GVT_PROGRESS_MS=1") {
  std::string cmd = "env " + env + " script -qfec \"'" + kBin + "' " + args + "\" /dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (p) pclose(p);
  return out;
}

inline std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

// 1-based line number of the first line of `file` containing every needle.
inline uint64_t line_of(const std::string& file, std::initializer_list<std::string> needles) {
  auto ls = lines_of(slurp(file));
  for (size_t i = 0; i < ls.size(); ++i) {
    bool all = true;
    for (const auto& n : needles) all = all && ls[i].find(n) != std::string::npos;
    if (all) return i + 1;
  }
  return 0;
}

inline bool has(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace gvt_cli_test
