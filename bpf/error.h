// SPDX-License-Identifier: GPL-2.0-only
// Why the tracer cannot go on. The library names the cause; cli/ turns each cause
// into its own exit status (cli/exit_status.h), so that scripts can tell "not root"
// from "module not loaded" without the library knowing about processes.
#pragma once

#include <stdexcept>
#include <string>

namespace gvt::bpf {

enum class Failure {
  no_permission,     // not root, no CAP_BPF + CAP_PERFMON
  no_btf,            // no /sys/kernel/btf/vmlinux
  no_module,         // drm_gpuvm not loaded
  missing_function,  // a required function cannot be probed
  verifier,          // the BPF verifier rejected a program
  runtime,           // any other failure at run time
};

// A failure that ends tracing: `what()` is one line naming cause and fix.
class LiveError : public std::runtime_error {
 public:
  LiveError(Failure cause, const std::string& msg) : std::runtime_error(msg), cause_(cause) {}
  Failure cause() const { return cause_; }

 private:
  Failure cause_;
};

}  // namespace gvt::bpf
