#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs gpuvm-trace into a staging prefix and builds its .deb, then checks what a
# user gets: the installed binary runs, `man -l` renders gpuvm-trace(8) with every
# subcommand and rule, the bash completion script loads and completes, and the .deb's
# Depends was computed by dpkg-shlibdeps (it names the shared libraries' packages).
#
#   install_test.sh SOURCE_DIR BUILD_DIR            # from an existing build
#   install_test.sh --fresh-clone SOURCE_DIR WORK   # clone HEAD, build, then the same
set -euo pipefail
die() { echo "install_test.sh: FAIL: $*" >&2; exit 1; }

fresh=0
if [[ ${1:-} == --fresh-clone ]]; then fresh=1; shift; fi
src=$1 work=$2
if ((fresh)); then
  # A clean checkout of HEAD (nothing modified, untracked or ignored but the top-level
  # build outputs) is what a fresh clone would be: install_staged has just checked its
  # build. CI runs on such a clone; a developer's tree seldom is one.
  if [[ -z ${GVT_FORCE_FRESH_CLONE:-} ]] && git -C "$src" rev-parse --git-dir >/dev/null 2>&1 &&
     ! git -C "$src" status --porcelain --ignored | grep -qv '^!! build[^/]*/\{0,1\}$'; then
    echo "install_test.sh: $src is a clean checkout of HEAD, so a fresh clone would build the same" \
         "files (install_staged checks that build): skipped; GVT_FORCE_FRESH_CLONE=1 runs it anyway"
    exit 77
  fi
  rm -rf "$work" && mkdir -p "$work"
  git clone -q "$src" "$work/src" || die "git clone of $src failed"
  # The offline tool is enough to prove install and packaging; the BPF side would
  # only lengthen the build. No optimiser and no debug info: this build proves that
  # the committed files build and install, not how fast the result runs (95 s against
  # 169 s for RelWithDebInfo on an idle 2-core machine).
  cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG=-O0 \
    -DCMAKE_CXX_FLAGS_DEBUG=-O0 -DGVT_LIVE=OFF >/dev/null ||
    die "cmake configure of the fresh clone failed"
  cmake --build "$work/build" -j2 --target gpuvm-trace gvt_docs >"$work/build.log" 2>&1 ||
    { tail -30 "$work/build.log" >&2; die "build of the fresh clone failed"; }
  build=$work/build
else
  build=$work
  work=$build/install-test
  rm -rf "$work" && mkdir -p "$work"
fi

stage=$work/stage
cmake --install "$build" --prefix "$stage" >/dev/null || die "cmake --install failed"
bin=$stage/bin/gpuvm-trace
man8=$stage/share/man/man8/gpuvm-trace.8
comp=$stage/share/bash-completion/completions/gpuvm-trace
for f in "$bin" "$man8" "$comp"; do [[ -e $f ]] || die "not installed: $f"; done

ver=$("$bin" --version) || die "installed binary: --version failed"
[[ $ver == "gpuvm-trace "[0-9]* ]] || die "unexpected --version output: $ver"

page=$(MANWIDTH=100 man -l "$man8" 2>"$work/man.err") || die "man -l failed: $(cat "$work/man.err")"
[[ ! -s $work/man.err ]] || die "man -l warned: $(cat "$work/man.err")"
for want in NAME SYNOPSIS SUBCOMMANDS RULES "EXIT STATUS" lint replay convert rules explain; do
  grep -q -- "$want" <<<"$page" || die "man page lacks '$want'"
done
# Every rule the binary knows is in the page, and so is every option of lint.
while read -r rule _; do
  grep -q -- "^ *$rule\$" <<<"$page" || die "man page lacks rule $rule"
done < <("$bin" rules | sed -n '/^[a-z]/p')
for opt in --format --fail-on --info --keep-going --idle; do
  grep -q -- "$opt" <<<"$page" || die "man page lacks lint's $opt"
done

# The completion script: valid bash, completes subcommands and rule IDs.
bash -n "$comp" || die "completion script is not valid bash"
got=$(bash -c 'source "$1"; COMP_WORDS=(gpuvm-trace lin); COMP_CWORD=1; _gpuvm_trace; echo "${COMPREPLY[*]}"' _ "$comp")
[[ $got == lint ]] || die "completing 'gpuvm-trace lin' gave '$got'"
got=$(bash -c 'source "$1"; COMP_WORDS=(gpuvm-trace explain double-); COMP_CWORD=2; _gpuvm_trace; echo "${COMPREPLY[*]}"' _ "$comp")
[[ $got == double-put ]] || die "completing 'gpuvm-trace explain double-' gave '$got'"

# The package: Depends computed by dpkg-shlibdeps from the binary's NEEDED entries.
(cd "$build" && cpack -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log" >&2; die "cpack failed"; }
deb=$(ls "$work"/pkg/gpuvm-trace_*.deb 2>/dev/null | head -1)
[[ -n $deb ]] || die "cpack wrote no .deb in $work/pkg"
depends=$(dpkg-deb -f "$deb" Depends)
[[ -n $depends ]] || die "the .deb has no Depends (shlibdeps did not run?)"
# Each shared library the binary needs must be covered by a package in Depends.
for lib in $(objdump -p "$bin" | awk '/NEEDED/ {print $2}'); do
  # awk reads to the end: an early exit would kill ldconfig with SIGPIPE, and pipefail
  # would fail the test at random.
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && !p {print $NF; p = 1}')
  [[ -n $path ]] || continue
  pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1) || true
  [[ -n $pkg ]] || pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) || true
  [[ -n $pkg ]] || continue
  grep -qw -- "$pkg" <<<"$depends" || die "Depends ($depends) lacks $pkg, which provides $lib"
done
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/gpuvm-trace ./usr/share/man/man8/gpuvm-trace.8 ./usr/share/bash-completion/completions/gpuvm-trace; do
  grep -q -- " $f" <<<"$contents" || die "the .deb lacks $f"
done
echo "install_test.sh: ok: $ver; $(basename "$deb"); Depends: $depends"
