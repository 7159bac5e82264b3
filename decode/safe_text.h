// SPDX-License-Identifier: GPL-2.0-only
// The one escape for text output. Every string that comes from a trace or from the
// kernel (comm, settable by any process with prctl(PR_SET_NAME); stack symbols and
// module names; record types; file names; reader messages quoting input) passes
// through safe_text() before it reaches a terminal or a text report, so no input can
// move the cursor, recolour the screen or forge a finding line.
#pragma once

#include <string>
#include <string_view>

namespace gvt {

// Printable UTF-8 passes unchanged. Escaped: C0 controls and DEL (\n, \t, \r, \e as
// such, others \xHH), C1 controls and bidirectional overrides (\u00HH / \u202e: they
// reorder or hide text), bytes that are not valid UTF-8 (\xHH), and the backslash
// itself (\\) so that an escape in the output always means an escaped input byte.
std::string safe_text(std::string_view s);

// Appends safe_text(s) to out.
void append_safe_text(std::string& out, std::string_view s);

}  // namespace gvt
