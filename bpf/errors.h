// SPDX-License-Identifier: GPL-2.0-only
// Exit statuses of `live` and `record` beyond lint's 0/1/2 (trace-format.md), one
// per cause, so that scripts can tell "not root" from "module not loaded".
#pragma once

#include <stdexcept>
#include <string>

namespace gvt::bpf {

inline constexpr int kExitNoPermission = 3;   // not root, no CAP_BPF + CAP_PERFMON
inline constexpr int kExitNoBtf = 4;          // no /sys/kernel/btf/vmlinux
inline constexpr int kExitNoModule = 5;       // drm_gpuvm not loaded (see --wait-module)
inline constexpr int kExitMissingFunction = 6;  // a required function cannot be probed
inline constexpr int kExitVerifier = 7;       // the BPF verifier rejected a program
inline constexpr int kExitRuntime = 8;        // any other failure at run time

// A failure that ends the command: `what()` is one line naming cause and fix.
class LiveError : public std::runtime_error {
 public:
  LiveError(int status, const std::string& msg) : std::runtime_error(msg), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

}  // namespace gvt::bpf
