#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang, ASan + UBSan) into
# build-fuzz and runs each for a bounded time on a copy of its committed seed
# corpus (the committed corpus never grows). Fails on any crash, leak,
# sanitizer report, GLib critical or time-out; the input that did it is kept
# and its path printed. Needs clang and libclang-rt-14-dev (scripts/setup.sh
# --tests installs them).
#
# Usage: scripts/fuzz.sh [TARGET...]     (default: every target)
#   FUZZ_SECONDS=N   time per target (default 20)
#   FUZZ_KEEP=DIR    keep the grown corpora and logs in DIR
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
root=$PWD
seconds="${FUZZ_SECONDS:-20}"

CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
  -DCS_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" >&2

targets=("$@")
if ((${#targets[@]} == 0)); then
  for d in tests/fuzz/corpus/*/; do
    t=$(basename "$d")
    # fuzz_http_route is built once its source exists (see tests/fuzz/CMakeLists.txt).
    [[ -x build-fuzz/tests/fuzz/$t ]] && targets+=("$t")
  done
fi

work="${FUZZ_KEEP:-$(mktemp -d /tmp/cs-fuzz.XXXXXX)}"
mkdir -p "$work"
[[ -n "${FUZZ_KEEP:-}" ]] || trap 'rm -rf "$work"' EXIT

# Leak checks: libFuzzer's own, after every input whose allocations outgrow
# its frees (-detect_leaks=1), so a leak on any path an input takes fails. The
# whole-process check at exit is off: all it adds in a fuzzer are GLib's
# load-time allocations, which the fast unwinder cannot name for a
# suppression (the e2e and unit runs check at exit, see scripts/test.sh).
# A GLib critical (a misused API, e.g. on input we should have refused) is
# fatal, as is any UBSan report (-fno-sanitize-recover at build time).
export ASAN_OPTIONS=detect_leaks=1:leak_check_at_exit=0:abort_on_error=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export G_DEBUG=fatal-criticals

status=0
for t in "${targets[@]}"; do
  corpus="$work/$t/corpus"
  artifacts="$work/$t/artifacts"
  rm -rf "${work:?}/$t"
  mkdir -p "$corpus" "$artifacts"
  cp tests/fuzz/corpus/"$t"/* "$corpus"/
  dict=()
  [[ -f tests/fuzz/$t.dict ]] && dict=(-dict="$root/tests/fuzz/$t.dict")
  log="$work/$t/fuzz.log"
  rc=0
  # -timeout: one input that takes seconds is a finding (a hostile offer
  # must not stall the main loop); -rss_limit_mb likewise for memory.
  (cd "$work/$t" && "$root/build-fuzz/tests/fuzz/$t" "${dict[@]}" -max_total_time="$seconds" \
    -timeout=5 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus") >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  if ((rc != 0)) || grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|CRITICAL' "$log"; then
    echo "fuzz: $t FAILED (exit $rc); log and input in $work/$t:" >&2
    grep -E -A40 'ERROR:|runtime error:|CRITICAL|deadly signal' "$log" | head -80 >&2 || tail -40 "$log" >&2
    ls "$artifacts" >&2
    [[ -n "${FUZZ_KEEP:-}" ]] || trap - EXIT  # keep the evidence
    status=1
  else
    echo "fuzz: $t ok: ${runs:-?} runs in ${seconds} s (${speed:-?}/s), corpus $(ls "$corpus" | wc -l) inputs" >&2
  fi
done
exit $status
