// SPDX-License-Identifier: GPL-2.0-only
// `gpuvm-trace live` (findings as they happen) and `gpuvm-trace record` (a trace
// file for lint/replay). Both drive bpf/tracer.h; live feeds the Checker, record a
// TraceWriter.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bpf/error.h"
#include "bpf/kernel_facts.h"
#include "bpf/probe_plan.h"
#include "bpf/tracer.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "decode/safe_text.h"
#include "cli/output.h"
#include "decode/header_filter.h"
#include "decode/redact.h"
#include "decode/trace_io.h"
#include "decode/model/checker.h"

namespace gvt::cli {
namespace {

using namespace gvt::bpf;
using Clock = std::chrono::steady_clock;
int exit_status_of(Failure f) {
  switch (f) {
    case Failure::no_permission: return kExitNoPermission;
    case Failure::no_btf: return kExitNoBtf;
    case Failure::no_module: return kExitNoModule;
    case Failure::missing_function: return kExitMissingFunction;
    case Failure::verifier: return kExitVerifier;
    case Failure::runtime: return kExitRuntime;
  }
  return kExitRuntime;
}

struct LiveArgs {
  bool record = false;
  // live
  std::string format = "text";
  bool info = false;
  bool stats = false;
  // record
  std::string output;
  std::string out_format;  // "" = from the file name
  bool redact = false;
  bool redact_comm = false;
  // both
  std::vector<int32_t> tids;  // -t/--tid: what is reported (live) / marked (record)
  std::string vm;             // --vm
  int pid = 0;
  std::string comm;
  double duration_s = 0;
  std::string command;
  bool all_locks = false;
  bool no_stacks = false;
  std::string stacks = "needed";
  bool kprobes = false;
  bool dry_run = false;
  CLI::Option* wait_opt = nullptr;
  std::string wait_s;
  bool verbose = false;
  uint32_t ringbuf_mb = 32;
  uint32_t ringbuf_kb = 0;  // --ringbuf-kb, overrides --ringbuf-mb
};

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop = true; }

// SIGINT/SIGTERM end the trace cleanly (footer, summary) instead of killing us.
void install_signals() {
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  // SA_RESTART: a write to stdout interrupted by the very SIGINT that ends the trace
  // failed with EINTR (stdio does not retry), lost the summary and exited 8. The
  // ring-buffer wait (epoll) still returns at once: it is never restarted.
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

uint64_t now_mono_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

// -c CMD: forked before the probes are attached, started once they are, so that
// nothing it does is missed; its pid (and descendants) is the filter.
class Child {
 public:
  explicit Child(const std::string& cmd) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
      throw LiveError(Failure::runtime, fmt::format("pipe: {}", std::strerror(errno)));
    pid_ = fork();
    if (pid_ < 0) throw LiveError(Failure::runtime, fmt::format("fork: {}", std::strerror(errno)));
    if (pid_ == 0) {
      signal(SIGINT, SIG_DFL);
      signal(SIGTERM, SIG_DFL);
      close(fds[1]);
      char go;
      // EOF without a byte: the tracer failed to start; do not run the command.
      if (read(fds[0], &go, 1) != 1) _exit(127);
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[0]);
    go_fd_ = fds[1];
  }
  ~Child() {
    if (go_fd_ >= 0) close(go_fd_);
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGTERM);
      int st;
      waitpid(pid_, &st, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void start() {
    char go = 1;
    if (write(go_fd_, &go, 1) != 1) throw LiveError(Failure::runtime, "cannot start the -c command");
    close(go_fd_);
    go_fd_ = -1;
  }
  bool exited() {
    if (exited_) return true;
    int st;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      exited_ = true;
      status_ = st;
    }
    return exited_;
  }
  int status() const { return status_; }

 private:
  pid_t pid_ = -1;
  int go_fd_ = -1;
  bool exited_ = false;
  int status_ = 0;
};

void print_plan(const KernelFacts& k, const Plan& p) {
  // Kernel-supplied strings (release, module and symbol names) go through safe_text().
  fmt::print("probe plan for kernel {}: GPUVM {}{}\n", safe_text(k.release),
             k.gpuvm_builtin ? "built into vmlinux" : "module " + safe_text(k.module),
             k.build_id.empty() ? std::string(" (build-id unknown)") : " (build-id " + safe_text(k.build_id) + ")");
  fmt::print("features: deferred={} gpuva_mutex={} immediate_mode={} prealloc_self_locks={}\n",
             tri_name(k.feat_deferred), tri_name(k.feat_gpuva_mutex),
             tri_name(k.feat_immediate_mode), tri_name(k.feat_prealloc_self_locks));
  fmt::print("coverage: put={} locks={}\n", p.put_complete ? "complete" : "partial",
             p.locks_complete ? "complete" : "partial");
  if (!p.put_reason.empty()) fmt::print("put coverage: {}\n", p.put_reason);
  for (const std::string& e : p.put_evidence) fmt::print("  evidence: {}\n", e);
  if (k.put_analysis && !k.put_analysis->module_file.empty())
    fmt::print("  code analysis of {}: {:.1f} ms\n", k.put_analysis->module_file, k.put_analysis->ms);
  if (!k.have_filter_functions)
    fmt::print("(no read access to available_filter_functions: plan from BTF only; run as root for clones)\n");
  fmt::print("probes ({}):\n", p.probes.size());
  for (const PlannedProbe& pp : p.probes) {
    std::string where = pp.module.empty() ? pp.symbol : fmt::format("{} [{}]", pp.symbol, pp.module);
    fmt::print("  {:<32} -> {:<44} {:<14} {}\n", fn_name(pp.fn), safe_text(where), mech_name(pp.mech),
               safe_text(pp.why));
  }
  if (!p.skipped.empty()) fmt::print("skipped:\n");
  for (const Skipped& s : p.skipped) fmt::print("  {:<32} {}\n", safe_text(s.symbol), safe_text(s.why));
  for (const std::string& n : p.notices) fmt::print("note: {}\n", safe_text(n));
  for (const std::string& m : p.missing) fmt::print("missing (required): {}\n", safe_text(m));
  std::fflush(stdout);
}

// Waits for drm_gpuvm; false when interrupted or timed out.
bool wait_for_module(double seconds) {
  auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  std::fprintf(stderr, "gpuvm-trace: waiting for drm_gpuvm to be loaded...\n");
  while (!g_stop) {
    if (gpuvm_available()) return true;
    if (seconds > 0 && Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

int run(const LiveArgs& a) {
  install_signals();
  const bool wait = a.wait_opt && a.wait_opt->count() > 0;
  double wait_s = 0;
  if (wait && !a.wait_s.empty()) {
    try {
      wait_s = std::stod(a.wait_s);
    } catch (const std::exception&) {
      print_error(fmt::format("--wait-module: '{}' is not a number of seconds", a.wait_s));
      return kExitUsage;
    }
  }
  if (a.record && !a.dry_run && a.output.empty()) {
    print_error("record needs -o FILE (use -o - for standard output)");
    return kExitUsage;
  }
  FindingFilter filter;
  if (!parse_filter({}, a.vm, a.tids, filter)) return kExitUsage;
  if (a.record && (a.redact || a.redact_comm) && filter.active())
    std::fprintf(stderr, "gpuvm-trace: note: --redact drops free header keys, the filter among them; "
                         "give -t/--vm to lint or replay instead\n");

  try {
    if (!a.dry_run && !have_bpf_privileges())
      throw LiveError(Failure::no_permission,
                      "tracing needs root or CAP_BPF and CAP_PERFMON: run with sudo (--dry-run works without)");

    const auto t_facts = Clock::now();
    KernelFacts facts = gather_facts();
    if (a.verbose)
      print_verbose(fmt::format("gpuvm-trace: start-up: kernel facts and put coverage {:.2f} s\n",
                                std::chrono::duration<double>(Clock::now() - t_facts).count()));
    if (!facts.gpuvm_present && wait) {
      if (!wait_for_module(wait_s))
        throw LiveError(Failure::no_module, g_stop ? "interrupted while waiting for drm_gpuvm"
                                              : "drm_gpuvm was not loaded in time: load the driver "
                                                "(modprobe drm_gpuvm) or wait longer");
      facts = gather_facts();
    }
    if (!facts.gpuvm_present)
      throw LiveError(Failure::no_module,
                      "drm_gpuvm is not loaded: modprobe drm_gpuvm (or load the driver using it), "
                      "or pass --wait-module");

    PlanOptions po;
    po.kprobes = a.kprobes;
    Plan plan = make_plan(facts, po);
    if (a.dry_run) {
      print_plan(facts, plan);
      return plan.missing.empty() ? kExitClean : kExitMissingFunction;
    }
    if (!plan.missing.empty())
      throw LiveError(Failure::missing_function,
                      fmt::format("required function(s) cannot be probed: {} (see --dry-run); is this "
                                  "drm_gpuvm built with ftrace support?",
                                  fmt::join(plan.missing, ", ")));
    for (const Skipped& s : plan.skipped)
      if (a.verbose || s.why.starts_with("not in this kernel"))
        std::fprintf(stderr, "gpuvm-trace: note: %s skipped: %s\n", safe_text(s.symbol).c_str(),
                     safe_text(s.why).c_str());
    for (const std::string& n : plan.notices)
      std::fprintf(stderr, "gpuvm-trace: note: %s\n", safe_text(n).c_str());

    std::unique_ptr<Child> child;
    TracerOptions to;
    to.kprobes = a.kprobes;
    to.stacks = a.no_stacks         ? StackPolicy::none
                : a.stacks == "all"  ? StackPolicy::all
                : a.stacks == "none" ? StackPolicy::none
                                     : StackPolicy::needed;
    to.all_locks = a.all_locks;
    if (a.verbose) to.verbose = [](const std::string& text) { print_verbose(text); };
    to.ringbuf_kb = a.ringbuf_kb ? a.ringbuf_kb : a.ringbuf_mb << 10;
    to.comm = a.comm;
    to.warn = [](const std::string& msg) { warn(msg); };
    if (a.pid > 0) to.filter_tgid = static_cast<uint32_t>(a.pid);
    if (!a.command.empty()) {
      child = std::make_unique<Child>(a.command);
      to.filter_tgid = static_cast<uint32_t>(child->pid());
      to.filter_tree = true;
    }

    Tracer tracer(to, facts, plan);

    // The sink: the checker (live) or a trace writer (record).
    const bool json = a.format == "json";
    OutputOptions oo{json, want_color(json), a.info};
    std::unique_ptr<FindingPrinter> printer;
    std::unique_ptr<Checker> checker;
    std::unique_ptr<TraceWriter> writer;
    std::unique_ptr<Redactor> redactor;
    RecordSink* sink;
    if (a.record) {
      Format f = a.out_format.empty() ? format_for_path(a.output)
                                      : (a.out_format == "gvt" ? Format::gvt : Format::jsonl);
      try {
        writer = make_writer(a.output, f);
      } catch (const std::exception& e) {
        print_error(fmt::format("{}: {}", a.output, e.what()));
        return kExitUsage;
      }
      sink = writer.get();
      if (a.redact || a.redact_comm) {
        redactor = std::make_unique<Redactor>(*writer, RedactOptions{a.redact_comm});
        sink = redactor.get();
      }
    } else {
      printer = std::make_unique<FindingPrinter>(oo, stdout);
      CheckerOptions co;
      co.report_info = a.info;
      co.filter = filter;
      co.stats = a.stats;
      checker = std::make_unique<Checker>(co, *printer);
      Checker* c = checker.get();
      printer->set_stack_lookup([c](uint64_t id) { return c->stack(id); });
      sink = checker.get();
    }
    // record: the filter goes into the header (every event is still written), so that
    // lint/replay of the file report what the user asked for.
    sink->on_header(a.record ? with_header_filter(tracer.header(), HeaderFilter{filter.tids, filter.vm})
                             : tracer.header());
    if (writer) writer->flush();

    std::fprintf(stderr, "gpuvm-trace: attached %d probes\n", tracer.attached());
    std::fflush(stderr);
    const uint64_t t0 = now_mono_ns();
    if (child) child->start();

    auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(a.duration_s * 1000));
    auto last_flush = Clock::now();
    // Bounded loss on a crash: under load one poll drains seconds of backlog, so the
    // file is flushed from inside the drain too, at least every 200 ms.
    constexpr auto kFlushEvery = std::chrono::milliseconds(200);
    if (writer) {
      TraceWriter* w = writer.get();
      tracer.set_tick([w, &last_flush] {
        w->flush();
        last_flush = Clock::now();
      }, kFlushEvery);
    }
    while (!g_stop) {
      tracer.poll(*sink, 100);
      if (!writer && !stdout_ok()) return kExitRuntime;  // nobody reads the findings: stop, as record does
      if (writer && Clock::now() - last_flush >= kFlushEvery) {
        writer->flush();
        last_flush = Clock::now();
      }
      if (a.duration_s > 0 && Clock::now() >= deadline) break;
      if (child && child->exited()) break;
    }
    // What is still in the ring buffer belongs to the trace.
    tracer.poll(*sink, 0);
    tracer.poll(*sink, 0);

    Footer ft;
    ft.events = tracer.events();
    ft.lost = tracer.lost();
    ft.duration_ns = now_mono_ns() - t0;
    sink->on_footer(ft);
    if (tracer.lost()) {
      std::string why = tracer.loss_explanation();
      warn(fmt::format("{} events lost in total: findings on affected objects are unknown{}{}", tracer.lost(),
                       why.empty() ? "" : ": ", why));
    }
    if (uint64_t n = tracer.stacks_lost())
      warn(fmt::format("kernel stack missing from {} record{}: both stack maps already held another "
                       "stack in the bucket; findings on such records show no stack",
                       n, n == 1 ? "" : "s"));
    if (a.verbose) {
      auto m = tracer.stack_memo();
      print_verbose(fmt::format("gpuvm-trace: stack memo: {} stacks reused, {} unwound after a miss\n", m.reused,
                                m.unwound));
    }
    if (child && child->exited() && WIFEXITED(child->status()) && WEXITSTATUS(child->status()) == 127)
      warn(fmt::format("-c command '{}' could not be run (exit status 127)", a.command));

    if (writer) {
      writer->close();
      std::fprintf(stderr, "gpuvm-trace: recorded %llu events (%llu lost) to %s\n",
                   static_cast<unsigned long long>(tracer.events()),
                   static_cast<unsigned long long>(tracer.lost()), safe_text(a.output).c_str());
      return kExitClean;
    }
    checker->finish();
    print_summary(checker->summary(), oo, stdout, checker->stats());
    if (!stdout_ok()) return kExitRuntime;  // = kExitWrite, as record's write errors
    return findings_exit_status(checker->summary(), Severity::error);
  } catch (const LiveError& e) {
    print_error(e.what());
    return exit_status_of(e.cause());
  } catch (const std::exception& e) {
    print_error(e.what());
    return kExitRuntime;
  }
}

void add_common(CLI::App* sub, LiveArgs& a) {
  // -t/--tid and --vm select what is reported, never what is traced: the model needs
  // the other tasks' events (their locks, the put that frees a vm_bo another task
  // uses) to judge the selected ones without false positives.
  sub->add_option("-t,--tid", a.tids,
                  a.record ? "Mark the trace as being about this task (repeatable): every event is still "
                             "recorded (other tasks' locks and puts are evidence); the header's \"filter\" key "
                             "names it and lint/replay of the file report only its findings"
                           : "Report only findings raised by this task (repeatable); every task is still traced, "
                             "since other tasks' locks and puts are evidence")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_option("--vm", a.vm,
                  a.record ? "Mark the trace as being about this VM (ADDR): every event is still recorded; "
                             "lint/replay of the file report only its findings"
                           : "Report only findings about this VM (ADDR)");
  sub->add_option("-p,--pid", a.pid, "Only this process (tgid)")->check(CLI::PositiveNumber);
  sub->add_option("--comm", a.comm, "Only tasks with this command name");
  sub->add_option("-d,--duration", a.duration_s, "Stop after SECONDS")->check(CLI::NonNegativeNumber);
  sub->add_option("-c,--command", a.command,
                  "Run CMD (via /bin/sh) once probes are attached; trace it and its children; stop when it exits");
  sub->add_flag("--all-locks", a.all_locks, "Record every ww_mutex lock/unlock, not only GPUVM resvs");
  sub->add_option("--stacks", a.stacks,
                  "Kernel stacks on GPUVM events: needed (only where a finding may cite one), all, none")
      ->check(CLI::IsMember({"needed", "all", "none"}))
      ->capture_default_str();
  sub->add_flag("--no-stacks", a.no_stacks, "Same as --stacks=none");
  sub->add_flag("-k,--kprobes", a.kprobes, "Use kprobes/kretprobes instead of fentry/fexit");
  sub->add_flag("--dry-run", a.dry_run, "Print the probe plan (function, symbol, mechanism, why) and exit");
  a.wait_opt = sub->add_option("--wait-module", a.wait_s,
                               "Wait for drm_gpuvm to be loaded (optionally at most SECONDS)")
                   ->expected(0, 1);
  sub->add_flag("-v,--verbose", a.verbose, "libbpf messages and the verifier log on failure");
  CLI::Option* mb = sub->add_option("--ringbuf-mb", a.ringbuf_mb, "Ring buffer size in MiB (rounded up to a power of two)")
                        ->check(CLI::Range(1, 1024))
                        ->capture_default_str();
  // Sizes below 1 MiB are for small machines and for the loss tests, which need a
  // buffer the consumer cannot keep up with.
  sub->add_option("--ringbuf-kb", a.ringbuf_kb, "Ring buffer size in KiB (at least a page; rounded up to a power of two)")
      ->check(CLI::Range(4, 1 << 20))
      ->excludes(mb);
}

}  // namespace
}  // namespace gvt::cli

void add_live_commands(CLI::App& app, int& exit_status) {
  using namespace gvt::cli;
  auto live = std::make_shared<LiveArgs>();
  CLI::App* l = app.add_subcommand("live", "Trace drm_gpuvm now and report rule violations as they happen");
  l->add_option("-f,--format", live->format, "Output: text or json (findings stream)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  l->add_flag("--info", live->info, "Also report info findings");
  l->add_flag("--stats", live->stats,
              "With the summary at the end: events per function, findings per rule, vm_bos per VM, the "
              "longest vm_bo lifetimes (JSON: the summary's \"stats\" key)");
  add_common(l, *live);
  l->callback([live, &exit_status] { exit_status = run(*live); });

  auto rec = std::make_shared<LiveArgs>();
  rec->record = true;
  CLI::App* r = app.add_subcommand("record", "Trace drm_gpuvm into a trace file for lint and replay");
  r->add_option("-o,--output", rec->output, "Trace file (.gvt = binary, else JSON Lines; - = stdout)");
  r->add_option("--format", rec->out_format, "Force the output format")->check(CLI::IsMember({"gvt", "jsonl"}));
  r->add_flag("--redact", rec->redact,
              "Write kernel addresses as keyed hashes (random key per run), for sharing");
  r->add_flag("--redact-comm", rec->redact_comm, "With --redact: hash task names too (implies --redact)");
  add_common(r, *rec);
  r->callback([rec, &exit_status] { exit_status = run(*rec); });
}
