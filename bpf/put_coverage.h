// SPDX-License-Identifier: GPL-2.0-only
// Put coverage decided from the running kernel's own code (vm_bo-lifecycle.md §B.3):
// does every final put of a vm_bo (a decrement of drm_gpuvm_bo.kref) happen in a
// function the tool probes, and with which calling convention is the put probed?
//
// The module's machine code is disassembled (capstone) and a small forward data-flow
// analysis per function tracks which registers hold "argument i + constant" and
// which hold constants. It finds every atomic decrement of the vm_bo refcount (the
// inlined kref_put), the function holding the put that drm_gpuvm_bo_put performs
// (the exported function itself or a compiler clone such as .part.N), what that
// function takes (which argument the decremented vm_bo is) and returns (a constant
// 0/1 = destroyed flag at every return), and who enters it. Any decrement elsewhere,
// or any doubt, makes the answer "partial" with the reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bpf/module_code.h"

namespace gvt::bpf {

struct PutCoverage {
  bool complete = false;
  std::string reason;                // partial: why (one line); complete: the proof in one line
  std::vector<std::string> details;  // the evidence, one line each
  // The function holding the put of drm_gpuvm_bo_put (when found).
  std::string put_symbol;
  int vm_bo_arg = -1;              // 0-based argument position of the vm_bo
  std::string vm_bo_reg;           // its register, e.g. "rdi"
  bool returns_destroyed = false;  // every return is a constant 0/1
  std::string ret_reg;             // e.g. "eax"
  std::vector<std::string> entered_by;   // functions entering put_symbol directly
  // Other probed functions with an inlined vm_bo put the model accounts for
  // (drm_gpuvm_bo_put_deferred, drm_gpuva_unlink_defer, drm_gpuvm_bo_obtain_prealloc,
  // drm_gpuva_unlink). The trace header lists them (coverage.put_inlined_in): the model
  // applies drm_gpuva_unlink's put at its exit only when it is listed.
  std::vector<std::string> inline_puts;
  int64_t kref_offset = -1;        // of drm_gpuvm_bo.kref's counter, as used
  // Of drm_gpuva.vm_bo, when an inlined put in drm_gpuva_unlink had to be proven to
  // drop va->vm_bo's reference (-1 otherwise).
  int64_t va_vm_bo_offset = -1;
  std::string module_file;         // the analysed file ("" = in-memory / not found)
  double ms = 0;                   // time spent (read + decompress + analyse)
  // "(vm_bo in rdi) -> destroyed flag in eax"
  std::string convention() const;
};

struct PutAnalysisOptions {
  // Offset of drm_gpuvm_bo.kref.refcount.refs.counter from BTF; learned from
  // drm_gpuvm_bo_put's own code when absent (and checked against BTF when present).
  std::optional<int64_t> kref_offset;
  // Offset of drm_gpuva.vm_bo from BTF; learned from drm_gpuva_link's code when absent
  // (and checked against it when present). Needed only when drm_gpuva_unlink holds an
  // inlined put (GCC's choice on arm64).
  std::optional<int64_t> va_vm_bo_offset;
};

PutCoverage analyse_put_coverage(const ModuleCode& code, const PutAnalysisOptions& o = {});

// The whole step for the running kernel: find the module's file under `modroot`,
// check that its build-id is the loaded module's (`loaded_build_id`, "" = unknown),
// read and analyse it. Never throws: failures are a "partial" with the reason.
PutCoverage analyse_module(const std::string& modroot, const std::string& release, const std::string& module,
                           const std::string& loaded_build_id, const PutAnalysisOptions& o = {});

// Functions of the exported API that the tool probes and whose inlined vm_bo put the
// model reconstructs from their own entry/exit events.
const std::vector<std::string>& inline_put_roles();

}  // namespace gvt::bpf
