// SPDX-License-Identifier: GPL-2.0-only
// gpuvm-trace: trace the DRM GPUVM vm_bo lifecycle and check it against its rules.
// This file only wires subcommands together; each one lives in its own *_cmd.cpp.
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"

#ifndef GVT_VERSION
// The build may pass -DGVT_VERSION="x.y.z"; keep in step with project() otherwise.
#define GVT_VERSION "0.1.0"
#endif

int main(int argc, char** argv) {
  int exit_status = gvt::cli::kExitClean;
  CLI::App app{"gpuvm-trace: trace the DRM GPUVM vm_bo lifecycle and flag rule violations"};
  app.name("gpuvm-trace");
  app.get_formatter()->label("Usage", "USAGE");
  app.set_version_flag("--version", std::string("gpuvm-trace ") + GVT_VERSION);
  app.require_subcommand(1);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return fmt::format("gpuvm-trace: {}\nRun with --help for more information.\n", e.what());
  });
  app.footer(
      "EXAMPLES:\n"
      "    gpuvm-trace lint trace.jsonl                 # check a recorded trace (exit 1 on errors)\n"
      "    gpuvm-trace lint -f json --fail-on warning t.gvt\n"
      "    gpuvm-trace replay --vm-bo 0xffff9e3a022c45a0 trace.jsonl   # one vm_bo's history\n"
      "    gpuvm-trace convert trace.jsonl -o trace.gvt\n"
      "    gpuvm-trace explain double-put               # what a rule means and how to fix it\n"
#ifdef GVT_HAVE_LIVE
      "    gpuvm-trace live                             # trace the running kernel\n"
      "    gpuvm-trace record -o trace.gvt              # record for replay/lint\n"
#endif
      "\n"
      "Run 'gpuvm-trace SUBCOMMAND --help' for the options of each subcommand.");

  gvt::cli::add_lint_command(app, exit_status);
  gvt::cli::add_replay_command(app, exit_status);
  gvt::cli::add_convert_command(app, exit_status);
  gvt::cli::add_rules_commands(app, exit_status);
#ifdef GVT_HAVE_LIVE
  add_live_commands(app, exit_status);
#endif
  gvt::cli::add_generate_command(app, exit_status);

  try {
    app.parse(argc, argv);  // subcommand callbacks run here and set exit_status
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with status 0; every real parse error is a
    // usage error (2), not one of CLI11's own 100+ codes.
    int rc = app.exit(e);
    return rc == 0 ? gvt::cli::kExitClean : gvt::cli::kExitUsage;
  } catch (const std::exception& e) {
    gvt::cli::print_error(e.what());
    return gvt::cli::kExitUsage;
  }
  // A closed or full stdout (e.g. `| head` or a full disk) must not pass as success;
  // the subcommands that check it themselves have already said so.
  if (exit_status != gvt::cli::kExitWrite && !gvt::cli::stdout_ok()) return gvt::cli::kExitWrite;
  return exit_status;
}
