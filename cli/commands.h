// SPDX-License-Identifier: GPL-2.0-only
// Subcommand registration hooks. main.cpp owns the CLI11 App; each part adds its
// subcommands here so that the binary stays one thin dispatcher.
#pragma once

#include <CLI/CLI.hpp>

namespace gvt::cli {

// Exit statuses shared by every subcommand (trace-format.md): 0 clean, 1 findings at
// or above --fail-on, 2 usage or input error.
inline constexpr int kExitClean = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitUsage = 2;
// Writing the output failed (disk full, closed pipe): the same status `live` and
// `record` use for run-time failures (bpf/errors.h kExitRuntime), in every subcommand.
inline constexpr int kExitWrite = 8;

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
