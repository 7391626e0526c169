#!/usr/bin/env bash
# Sets up (packages, npm tools, build with tests) and runs every test: unit,
# renderer, end-to-end WebRTC in network namespaces, the browser page, a
# sanitizer build of the unit tests, and the benchmark smoke test.
# Needs root (network namespaces). Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
scripts/setup.sh --tests
(cd tests/browser && { [[ -d node_modules/playwright-core && -d node_modules/puppeteer-core ]] || npm ci --no-audit --no-fund >&2 || npm install --no-audit --no-fund >&2; })

status=0
ctest --test-dir build --output-on-failure --timeout 300 || status=1

# The sanitizer build (ASan + UBSan, LSan at exit): the unit and renderer
# tests, then the server itself under the end-to-end tests that stress it
# most. Reports go to files (log_path) and a leak alone keeps the exit status
# (exitcode=0); tests/sanitizers/check_reports.py is the verdict: anything but
# the two known library leaks it names (and says why) fails. G_SLICE makes
# GLib's slices plain mallocs, so a leaked GObject shows.
scripts/setup.sh --tests --build-dir build-asan -DCS_SANITIZE=ON
export ASAN_OPTIONS=detect_leaks=1:exitcode=0:abort_on_error=1 G_SLICE=always-malloc
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
reports="$PWD/build-asan/sanitizer-reports"
rm -rf "$reports" && mkdir -p "$reports"
ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$reports/test" UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$reports/test" \
  ctest --test-dir build-asan --output-on-failure -R '^(unit|renderer)$' || status=1
if compgen -G "$reports/test.*" >/dev/null; then
  tests/sanitizers/check_reports.py "$reports"/test.* || status=1
fi
# netns.sh sends each server's reports to its test's folder and judges them.
# The hostile-input tests run here too; churn does not (its RSS bound means
# nothing under ASan's quarantine, and 650 viewers take too long sanitized:
# its fd, thread and RSS checks run on the normal build above).
CS_SANITIZER_LOGS=1 CS_SERVER_BIN="$PWD/build-asan/cube-streamer" ctest --test-dir build --output-on-failure \
  -R '^e2e_(one_viewer|three_viewers|stuck_viewer|protocol_errors|branch_error|encoder_failure|hostile_signaling|hostile_http|access_control|max_viewers|healthz|metrics|turn_relay|ice_nat|recording|check|logs|codecs|whep|audio|control)$' || status=1
unset ASAN_OPTIONS UBSAN_OPTIONS G_SLICE

# libFuzzer targets (clang): about 20 s each on a copy of the seed corpus.
scripts/fuzz.sh || status=1
exit $status
