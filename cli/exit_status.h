// SPDX-License-Identifier: GPL-2.0-only
// The process exit statuses of every subcommand, in one place (README's table and the
// man page list them). The library reports causes (bpf/error.h Failure); only the
// command line turns them into numbers.
#pragma once

namespace gvt::cli {

// Shared by every subcommand (trace-format.md): 0 clean, 1 findings at or above
// --fail-on, 2 usage or input error.
inline constexpr int kExitClean = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitUsage = 2;
// `live` and `record`: one per cause, so that scripts can tell "not root" from
// "module not loaded".
inline constexpr int kExitNoPermission = 3;     // not root, no CAP_BPF + CAP_PERFMON
inline constexpr int kExitNoBtf = 4;            // no /sys/kernel/btf/vmlinux
inline constexpr int kExitNoModule = 5;         // drm_gpuvm not loaded (see --wait-module)
inline constexpr int kExitMissingFunction = 6;  // a required function cannot be probed
inline constexpr int kExitVerifier = 7;         // the BPF verifier rejected a program
inline constexpr int kExitRuntime = 8;          // any other failure at run time
// Writing the output failed (disk full, closed pipe): the status of a run-time
// failure, in every subcommand.
inline constexpr int kExitWrite = kExitRuntime;

}  // namespace gvt::cli
