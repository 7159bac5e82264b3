// SPDX-License-Identifier: GPL-2.0-only
// `gpuvm-trace generate man|bash-completion` (hidden): the man page gpuvm-trace(8) and
// the bash completion script, written from the same CLI11 definitions as --help and
// from the rules catalogue, so that they cannot drift from the program. The build runs
// it once and `cmake --install` installs the results.
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "decode/model/rule_catalog.h"

#ifndef GVT_VERSION
#define GVT_VERSION "0.1.0"
#endif

namespace gvt::cli {
namespace {

// roff escapes: a leading '.' or '\'' would be a request, '\' and '-' need escaping.
std::string roff(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (c == '\\') o += "\\e";
    else if (c == '-') o += "\\-";
    else o += c;
  }
  if (!o.empty() && (o[0] == '.' || o[0] == '\'')) o.insert(0, "\\&");
  return o;
}

std::string option_names(const CLI::Option& o) {
  std::string s;
  for (const auto& n : o.get_snames()) s += (s.empty() ? "" : ", ") + std::string("-") + n;
  for (const auto& n : o.get_lnames()) s += (s.empty() ? "" : ", ") + std::string("--") + n;
  return s;
}

std::vector<const CLI::App*> visible_subcommands(const CLI::App& app) {
  std::vector<const CLI::App*> v;
  for (const CLI::App* s : app.get_subcommands([](const CLI::App*) { return true; }))
    if (!s->get_group().empty()) v.push_back(s);
  return v;
}

// Exit statuses (cli/exit_status.h), with the meaning README's table gives them.
struct ExitRow {
  int code;
  std::string_view meaning;
};
constexpr ExitRow kExits[] = {
    {kExitClean, "no finding at or above --fail-on (default error); other subcommands: success"},
    {kExitFindings, "at least one finding at or above --fail-on"},
    {kExitUsage, "usage error or bad input (unreadable file, malformed line without --keep-going, unsupported trace version, unknown rule)"},
    {kExitNoPermission, "live/record: not root, or missing CAP_BPF + CAP_PERFMON"},
    {kExitNoBtf, "live/record: no kernel BTF"},
    {kExitNoModule, "live/record: drm_gpuvm not loaded (use --wait-module)"},
    {kExitMissingFunction, "live/record: a required kernel function cannot be probed"},
    {kExitVerifier, "live/record: the BPF verifier rejected a program (-v shows its log)"},
    {kExitRuntime, "live/record: other run-time failure"},
};

std::string man_page(const CLI::App& app) {
  std::string o;
  o += fmt::format(".TH GPUVM\\-TRACE 8 \"\" \"gpuvm-trace {}\" \"System Administration\"\n", GVT_VERSION);
  o += ".SH NAME\ngpuvm\\-trace \\- trace the DRM GPUVM vm_bo lifecycle and flag rule violations\n";
  o += ".SH SYNOPSIS\n.B gpuvm\\-trace\n.I SUBCOMMAND\n[\\fIOPTIONS\\fR] [\\fIARGS\\fR]\n";
  o += ".br\n.B gpuvm\\-trace \\-\\-version\n";
  o += ".SH DESCRIPTION\n";
  o += roff(app.get_description()) + ".\n";
  o += ".PP\nIt follows every struct drm_gpuvm_bo through its life with eBPF probes (live, "
       "record) or from a recorded trace (lint, replay), rebuilds it against a state machine "
       "and reports broken rules with stable rule IDs. When evidence is missing a rule "
       "answers \"unknown\", never \"violation\". Findings about a destroyed vm_bo quote who "
       "created and who destroyed it, with their kernel stacks; findings about locks list "
       "the locks the trace knows to be held.\n";
  o += ".SH SUBCOMMANDS\n";
  for (const CLI::App* s : visible_subcommands(app)) {
    o += fmt::format(".SS \"{}\"\n{}\n", roff(s->get_name()), roff(s->get_description()));
    for (const CLI::Option* opt : s->get_options()) {
      if (opt->get_lnames().size() == 1 && opt->get_lnames()[0] == "help") continue;
      std::string names = opt->get_positional() ? opt->get_name() : option_names(*opt);
      std::string arg = (!opt->get_positional() && opt->get_type_size_max() > 0)
                            ? " \\fI" + roff(opt->get_type_name()) + "\\fR"
                            : "";
      o += fmt::format(".TP\n.B {}{}\n{}\n", roff(names), arg, roff(opt->get_description()));
    }
    std::string footer = s->get_footer();
    if (!footer.empty()) {
      o += ".PP\n.nf\n";
      for (size_t i = 0; i < footer.size();) {
        size_t j = footer.find('\n', i);
        if (j == std::string::npos) j = footer.size();
        o += roff(std::string_view(footer).substr(i, j - i)) + "\n";
        i = j + 1;
      }
      o += ".fi\n";
    }
  }
  o += ".SH RULES\nEach finding names one of these rule IDs; "
       "\\fBgpuvm\\-trace explain\\fR \\fIRULE\\fR prints the full explanation.\n";
  for (const model::RuleInfo& r : model::rule_catalog()) {
    o += fmt::format(".TP\n.B {}\n({}) {}.\n.RS\n", roff(r.id), roff(r.severity), roff(r.title));
    o += fmt::format(".PP\n\\fIRequires:\\fR {}\n.PP\n\\fIMeaning:\\fR {}\n.PP\n\\fIFix:\\fR {}\n"
                     ".PP\n\\fIFunctions:\\fR {}\n.RE\n",
                     roff(r.requires_), roff(r.means), roff(r.fix), roff(r.functions));
  }
  o += ".SH EXIT STATUS\n";
  for (const ExitRow& e : kExits) o += fmt::format(".TP\n.B {}\n{}\n", e.code, roff(e.meaning));
  o += ".SH ENVIRONMENT\n.TP\n.B NO_COLOR\nNo colour even on a terminal.\n";
  o += ".TP\n.B GVT_PROGRESS_MS\nRedraw interval of the progress line in milliseconds (default 250 on a "
       "terminal, 1000 with \\-\\-progress elsewhere); nothing is drawn before twice that time.\n";
  o += ".SH FILES\n.TP\n.I /sys/kernel/btf/vmlinux\nKernel BTF, needed by live and record.\n";
  o += ".SH FILTERS, STATISTICS, PROGRESS\n"
       "\\fB\\-\\-rule\\fR, \\fB\\-\\-vm\\fR and \\fB\\-t\\fR/\\fB\\-\\-tid\\fR choose which findings are "
       "reported, never which events the model sees: every event of every task still updates it (another "
       "task's locks or puts are the evidence a selected finding rests on), so a filter can hide a finding "
       "but never create one or change its verdict. The summary and the exit status count the selected "
       "findings and say how many were hidden. \\fBrecord\\fR \\fB\\-t\\fR/\\fB\\-\\-vm\\fR record every "
       "event and write the filter into the trace header; \\fBlint\\fR and \\fBreplay\\fR of that file "
       "apply it unless given \\fB\\-\\-no\\-recorded\\-filter\\fR or a filter of their own.\n"
       ".PP\n\\fB\\-\\-stats\\fR prints, after the summary, events per function, findings per rule, vm_bos "
       "per VM and the longest vm_bo lifetimes; with \\fB\\-f json\\fR they are the optional \\fBstats\\fR "
       "key of the summary record.\n"
       ".PP\nlint, replay and convert draw a progress line on standard error when it is a terminal "
       "(\\fB\\-\\-progress\\fR forces it, \\fB\\-\\-no\\-progress\\fR turns it off).\n";
  o += ".SH NOTES\nlive and record need root (or CAP_BPF and CAP_PERFMON), kernel BTF "
       "including the drm_gpuvm module's, and fentry or kprobe support. Traces hold kernel "
       "addresses: share them after \\fBgpuvm\\-trace convert \\-\\-redact\\fR.\n";
  return o;
}

// Completes subcommands, then each subcommand's options, files for file arguments and
// rule IDs for `explain` and --rule.
std::string bash_completion(const CLI::App& app) {
  std::string subs, cases;
  for (const CLI::App* s : visible_subcommands(app)) {
    subs += (subs.empty() ? "" : " ") + s->get_name();
    std::string opts;
    for (const CLI::Option* opt : s->get_options()) {
      if (opt->get_positional()) continue;
      for (const auto& n : opt->get_snames()) opts += " -" + n;
      for (const auto& n : opt->get_lnames()) opts += " --" + n;
    }
    cases += fmt::format("    {}) opts=\"{}\" ;;\n", s->get_name(), opts.empty() ? "" : opts.substr(1));
  }
  std::string rules;
  for (const model::RuleInfo& r : model::rule_catalog()) rules += (rules.empty() ? "" : " ") + std::string(r.id);
  return fmt::format(R"(# bash completion for gpuvm-trace (generated by `gpuvm-trace generate bash-completion`)
_gpuvm_trace() {{
  local cur prev sub i opts
  cur=${{COMP_WORDS[COMP_CWORD]}}
  prev=${{COMP_WORDS[COMP_CWORD-1]}}
  sub=
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${{COMP_WORDS[i]}} in -*) ;; *) sub=${{COMP_WORDS[i]}}; break ;; esac
  done
  if [[ -z $sub ]]; then
    COMPREPLY=($(compgen -W "{subs} --help --version" -- "$cur"))
    return
  fi
  case $prev in
    --rule) COMPREPLY=($(compgen -W "{rules}" -- "$cur")); return ;;
    -f|--format) COMPREPLY=($(compgen -W "text json jsonl gvt perfetto markdown" -- "$cur")); return ;;
    --fail-on) COMPREPLY=($(compgen -W "error warning" -- "$cur")); return ;;
  esac
  case $sub in
{cases}    *) opts= ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))
  elif [[ $sub == explain ]]; then
    COMPREPLY=($(compgen -W "{rules}" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}}
complete -o filenames -F _gpuvm_trace gpuvm-trace
)",
                     fmt::arg("subs", subs), fmt::arg("rules", rules), fmt::arg("cases", cases));
}

}  // namespace

void add_generate_command(CLI::App& app, int& exit_status) {
  auto what = std::make_shared<std::string>();
  // Hidden (empty group): a build step, not something users need in --help.
  CLI::App* gen = app.add_subcommand("generate", "Write the man page or the bash completion script");
  gen->group("");
  gen->add_option("WHAT", *what, "man or bash-completion")
      ->required()
      ->check(CLI::IsMember({"man", "bash-completion"}));
  gen->callback([what, &app, &exit_status] {
    std::string s = *what == "man" ? man_page(app) : bash_completion(app);
    std::fwrite(s.data(), 1, s.size(), stdout);
    exit_status = kExitClean;
  });
}

}  // namespace gvt::cli
