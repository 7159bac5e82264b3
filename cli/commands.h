// SPDX-License-Identifier: GPL-2.0-only
// Subcommand registration hooks. main.cpp owns the CLI11 App; each part adds its
// subcommands here so that the binary stays one thin dispatcher.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/exit_status.h"

namespace gvt::cli {

// The offline subcommands (cli/): lint, replay, convert. Each callback stores its
// exit status in `exit_status`.
void add_lint_command(CLI::App& app, int& exit_status);
void add_replay_command(CLI::App& app, int& exit_status);
void add_convert_command(CLI::App& app, int& exit_status);
// `rules` and `explain` (cli/rules_cmd.cpp): the rules catalogue.
void add_rules_commands(CLI::App& app, int& exit_status);
// Hidden `generate man|bash-completion` (cli/manpage.cpp); registered last, since it
// describes every other subcommand.
void add_generate_command(CLI::App& app, int& exit_status);

}  // namespace gvt::cli

// Implemented in cli/live_cmd.cpp (live developer) and called from main only when
// GVT_HAVE_LIVE is defined: adds `live` and `record`. Their callbacks (set with
// CLI::App::callback) run after parsing and store the process exit status in
// `exit_status` (0/1/2 as above); print findings with cli/output.h.
void add_live_commands(CLI::App& app, int& exit_status);
