// SPDX-License-Identifier: GPL-2.0-only
// Must NOT compile: bpf/ sits below cli/, so a target that links gvt_bpf sees bpf/ and
// decode/ but no "cli/...". Built only by the ctest layering_bpf_sees_no_cli, which
// passes on the "No such file" error.
#include "bpf/tracer.h"
#include "decode/event.h"
#include "cli/exit_status.h"
