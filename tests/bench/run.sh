#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Throughput and memory benchmark of `gpuvm-trace lint` on gvt-gen traces. Not a
# test: it prints PASS/FAIL per target and always exits 0 unless something breaks.
#
#   tests/bench/run.sh                         # defaults below
#   EVENTS=5000000 REPS=2 tests/bench/run.sh   # quicker
#   SKIP_BUILD=1 BUILD=build-rel tests/bench/run.sh   # reuse a Release build
#
# Targets: .gvt >= 30 M events/s and >= 0.5x the throughput of `cat FILE >/dev/null`;
# JSONL >= 5 M events/s; 100 M events with 100 k live vm_bos linted in <= 64 MiB RSS,
# streamed through stdin and from a file path (mapped). Issue 10's offline ratios,
# each against a floor measured in the same run: .gvt lint >= 0.5x decoding alone
# (gvt-decode-only: the same readers into a counting sink) and JSONL lint >= 0.8x
# simdjson On-Demand alone over the file (gvt-jsonl-floor, built for this CPU).
set -u -o pipefail
shopt -s lastpipe  # peak_rss at the end of a pipeline sets variables of this shell

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
WORK=${WORK:-/tmp/gvt-bench}
EVENTS=${EVENTS:-20000000}          # for the file benchmarks (both formats)
BIG_EVENTS=${BIG_EVENTS:-100000000} # for the streaming memory run
LIVE=${LIVE:-100000}
REPS=${REPS:-3}
KEEP=${KEEP:-0}                     # 1: keep the generated files in $WORK

die() { echo "run.sh: $*" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || die "/usr/bin/time missing: apt-get install time"

mkdir -p "$WORK" || die "cannot create $WORK"
if [[ ${SKIP_BUILD:-0} == 1 ]]; then
  echo "== using the existing build in $BUILD (SKIP_BUILD=1; make sure it is a Release build)"
else
  echo "== build (Release) in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DGVT_LIVE="${GVT_LIVE:-ON}" >/dev/null ||
    die "cmake configure failed"
  cmake --build "$BUILD" -j2 --target gpuvm-trace gvt-gen gvt-decode-only gvt-jsonl-floor >"$WORK/build.log" 2>&1 ||
    die "build failed: see $WORK/build.log"
fi
echo "   build type: $(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt")"
GVT="$BUILD/gpuvm-trace"
GEN="$BUILD/gvt-gen"
DECODE="$BUILD/gvt-decode-only"
FLOOR="$BUILD/gvt-jsonl-floor"

# Arithmetic through awk (always present on Debian), not bc.
calc() { awk "BEGIN { printf \"%.9f\", $1 }"; }
# best_times CMD...: "WALL CPU" = the fastest wall time and the lowest user+sys CPU
# time over $REPS runs (stdout discarded). On a shared machine the CPU time is the
# steadier of the two; both are reported.
best_times() {
  local bw="" bc="" w c out
  for ((i = 0; i < REPS; i++)); do
    out=$(/usr/bin/time -f '%e %U %S' "$@" 2>&1 >/dev/null | tail -1)
    w=$(echo "$out" | awk '{print $1}')
    c=$(echo "$out" | awk '{print $2 + $3}')
    if [[ -z $bw ]] || (($(awk "BEGIN { print ($w < $bw) }"))); then bw=$w; fi
    if [[ -z $bc ]] || (($(awk "BEGIN { print ($c < $bc) }"))); then bc=$c; fi
  done
  echo "$bw $bc"
}
verdict() { if (($(awk "BEGIN { print ($1) ? 1 : 0 }"))); then echo PASS; else echo FAIL; fi; }
json_field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" | tail -1; }

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cpus," \
     "$(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -r)"
echo "== date: $(date -u +%FT%TZ)"

declare -A RESULT
for fmt in gvt jsonl; do
  f="$WORK/bench.$fmt"
  echo "== generate $EVENTS events ($fmt, $LIVE live vm_bos)"
  "$GEN" --events "$EVENTS" --live "$LIVE" --format "$fmt" -o "$f" 2>"$WORK/gen.txt" || die "gvt-gen failed: $(cat "$WORK/gen.txt")"
  echo "   $(cat "$WORK/gen.txt")"
  bytes=$(stat -c %s "$f")
  # The generator's traces must be clean: any violation or unknown is a bug in the
  # generator or in the model, never noise.
  summary=$("$GVT" lint -f json "$f" | tail -1)
  events=$(echo "$summary" | json_field events)
  viol=$(echo "$summary" | json_field violations)
  unk=$(echo "$summary" | json_field unknown)
  echo "   $bytes bytes, summary: $summary"
  [[ ${viol:-x} == 0 && ${unk:-x} == 0 ]] || echo "   WARNING: generated trace is not clean (violations=$viol unknown=$unk)"
  cat "$f" >/dev/null  # warm the page cache for both readers alike
  read -r w_cat c_cat <<<"$(best_times cat "$f")"
  read -r w_lint c_lint <<<"$(best_times "$GVT" lint "$f")"
  # The floor lint is measured against: the readers alone (gvt), simdjson alone (JSONL).
  if [[ $fmt == gvt ]]; then floor=("$DECODE" "$f"); fname=decode; else floor=("$FLOOR" "$f"); fname=floor; fi
  read -r w_floor c_floor <<<"$(best_times "${floor[@]}")"
  [[ $fmt == jsonl ]] && echo "   floor: $("$FLOOR" "$f")"
  w_floor=$(calc "($w_floor < 0.01) ? 0.01 : $w_floor")
  c_floor=$(calc "($c_floor < 0.01) ? 0.01 : $c_floor")
  # /usr/bin/time has 10 ms resolution: never divide by zero.
  c_cat=$(calc "($c_cat < 0.01) ? 0.01 : $c_cat")
  w_cat=$(calc "($w_cat < 0.01) ? 0.01 : $w_cat")
  printf '   cat : wall %8.2f s %9.1f MB/s | cpu %8.2f s\n' "$w_cat" "$(calc "$bytes / $w_cat / 1e6")" "$c_cat"
  printf '   lint: wall %8.2f s %9.1f MB/s %7.2f M events/s %6.3fx cat | cpu %8.2f s %7.2f M events/s %6.3fx cat\n' \
    "$w_lint" "$(calc "$bytes / $w_lint / 1e6")" "$(calc "$events / $w_lint / 1e6")" "$(calc "$w_cat / $w_lint")" \
    "$c_lint" "$(calc "$events / $c_lint / 1e6")" "$(calc "$c_cat / $c_lint")"
  printf '   %-6s: wall %7.2f s %7.2f M events/s | cpu %7.2f s %7.2f M events/s\n' "$fname" \
    "$w_floor" "$(calc "$events / $w_floor / 1e6")" "$c_floor" "$(calc "$events / $c_floor / 1e6")"
  printf '   lint / %s: wall %6.3fx | cpu %6.3fx\n' "$fname" "$(calc "$w_floor / $w_lint")" "$(calc "$c_floor / $c_lint")"
  RESULT[$fmt.fratio]=$(calc "$w_floor / $w_lint")
  RESULT[$fmt.cfratio]=$(calc "$c_floor / $c_lint")
  RESULT[$fmt.eps]=$(calc "$events / $w_lint")
  RESULT[$fmt.ratio]=$(calc "$w_cat / $w_lint")
  RESULT[$fmt.ceps]=$(calc "$events / $c_lint")
  RESULT[$fmt.cratio]=$(calc "$c_cat / $c_lint")
  [[ $KEEP == 1 ]] || rm -f "$f"
done

# peak_rss LABEL CMD...: runs CMD under /usr/bin/time -v, prints its summary line and
# peak RSS, sets RSS_KB.
peak_rss() {
  local label=$1 tv="$WORK/time-v.txt"
  shift
  /usr/bin/time -v "$@" 2>"$tv" >"$WORK/lint-big.txt"
  RSS_KB=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tv")
  echo "   lint ($label): $(tail -1 "$WORK/lint-big.txt")"
  echo "   lint ($label) peak RSS: $RSS_KB KiB ($((RSS_KB / 1024)) MiB), wall $(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$tv")"
}
echo "== stream $BIG_EVENTS events, $LIVE live vm_bos: gvt-gen -o - | gpuvm-trace lint -"
"$GEN" --events "$BIG_EVENTS" --live "$LIVE" --format gvt -o - 2>"$WORK/gen.txt" |
  peak_rss stdin "$GVT" lint -f json -
echo "   $(cat "$WORK/gen.txt")"
rss_kb=$RSS_KB
# The same trace from a file path: the reader maps it, and every mapped page read
# counts in the resident set until the reader gives it back.
echo "== the same from a file: gvt-gen -o FILE; gpuvm-trace lint FILE"
big="$WORK/big.gvt"
"$GEN" --events "$BIG_EVENTS" --live "$LIVE" --format gvt -o "$big" 2>"$WORK/gen.txt" || die "gvt-gen failed: $(cat "$WORK/gen.txt")"
echo "   $(cat "$WORK/gen.txt")"
peak_rss file "$GVT" lint -f json "$big"
rss_file_kb=$RSS_KB
[[ $KEEP == 1 ]] || rm -f "$big"

mev() { calc "$1 / 1000000"; }
echo "== targets (verdict on wall time; cpu-time figure in brackets)"
printf '   gvt   >= 30 M events/s : %7.2f M/s [%7.2f]  %s\n' "$(mev "${RESULT[gvt.eps]}")" "$(mev "${RESULT[gvt.ceps]}")" "$(verdict "${RESULT[gvt.eps]} >= 30000000")"
printf '   gvt   >= 0.5x cat      : %7.3fx   [%7.3fx]  %s\n' "${RESULT[gvt.ratio]}" "${RESULT[gvt.cratio]}" "$(verdict "${RESULT[gvt.ratio]} >= 0.5")"
printf '   jsonl >= 5 M events/s  : %7.2f M/s [%7.2f]  %s\n' "$(mev "${RESULT[jsonl.eps]}")" "$(mev "${RESULT[jsonl.ceps]}")" "$(verdict "${RESULT[jsonl.eps]} >= 5000000")"
# Two programs' ratio on a shared machine: the verdict is on CPU time, the steadier.
echo "   (the next two: verdict on cpu time, wall-time figure in brackets)"
printf '   gvt   lint >= 0.5x decode-only   : %6.3fx   [%6.3fx]  %s\n' "${RESULT[gvt.cfratio]}" "${RESULT[gvt.fratio]}" "$(verdict "${RESULT[gvt.cfratio]} >= 0.5")"
printf '   jsonl lint >= 0.8x On-Demand floor: %6.3fx  [%6.3fx]  %s\n' "${RESULT[jsonl.cfratio]}" "${RESULT[jsonl.fratio]}" "$(verdict "${RESULT[jsonl.cfratio]} >= 0.8")"
printf '   %d M / %d k live <= 64 MiB RSS, stdin: %d MiB  %s\n' "$((BIG_EVENTS / 1000000))" "$((LIVE / 1000))" "$((rss_kb / 1024))" "$(verdict "$rss_kb <= 65536")"
printf '   %d M / %d k live <= 64 MiB RSS, file : %d MiB  %s\n' "$((BIG_EVENTS / 1000000))" "$((LIVE / 1000))" "$((rss_file_kb / 1024))" "$(verdict "$rss_file_kb <= 65536")"
exit 0
