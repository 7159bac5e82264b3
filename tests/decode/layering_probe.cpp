// SPDX-License-Identifier: GPL-2.0-only
// Must NOT compile: decode/ sits below bpf/ and cli/, so a target that links only the
// decode libraries has no include root where "bpf/..." exists. Built only by the
// ctest layering_decode_sees_no_bpf, which passes on the "No such file" error.
#include "decode/event.h"
#include "decode/model/checker.h"
#include "bpf/gpuvm_trace.h"
