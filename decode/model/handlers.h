// SPDX-License-Identifier: GPL-2.0-only
// The event dispatcher: matches entries with exits per task, applies the §D.4
// transitions and calls each rule at the event its trigger names.
#pragma once

#include "decode/model/model.h"

namespace gvt::model {

void apply_event(Model& m, const Event& e);
void apply_lost(Model& m, const Lost& l);

}  // namespace gvt::model
