// SPDX-License-Identifier: GPL-2.0-only
// Gathers KernelFacts from the running kernel: BTF (vmlinux + drm_gpuvm module),
// tracefs' available_filter_functions and the module's build-id note.
#pragma once

#include <string>

#include "bpf/probe_plan.h"

namespace gvt::bpf {

struct FactsOptions {
  std::string sysfs = "/sys";  // root of sysfs (tests point it elsewhere)
  std::string modroot = "/lib/modules";  // where the module files of each release live
};

// Throws LiveError: no vmlinux BTF (Failure::no_btf). A missing drm_gpuvm is not an
// error here: facts.gpuvm_present says so and the caller decides (--wait-module).
KernelFacts gather_facts(const FactsOptions& o = {});

// true once /sys/module/drm_gpuvm is live (module loaded and initialised) or
// GPUVM is built into vmlinux.
bool gpuvm_available(const FactsOptions& o = {});

}  // namespace gvt::bpf
