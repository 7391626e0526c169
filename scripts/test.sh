#!/usr/bin/env bash
# Sets up (packages, npm tools, build with tests) and runs every test: unit,
# renderer, end-to-end WebRTC in network namespaces, the browser page, a
# sanitizer build of the unit tests, and the benchmark smoke test.
# Needs root (network namespaces). Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
scripts/setup.sh --tests
(cd tests/browser && { [[ -d node_modules/playwright-core ]] || npm ci --no-audit --no-fund >&2 || npm install --no-audit --no-fund >&2; })

status=0
ctest --test-dir build --output-on-failure --timeout 300 || status=1

# The sanitizer build (ASan + UBSan): the unit and renderer tests, then the
# server itself under the end-to-end tests that stress it most. Leak checks
# are off: GStreamer and Mesa keep process-lifetime allocations.
scripts/setup.sh --tests --build-dir build-asan -DCS_SANITIZE=ON
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ctest --test-dir build-asan --output-on-failure -R '^(unit|renderer)$' || status=1
CS_SERVER_BIN="$PWD/build-asan/cube-streamer" ctest --test-dir build --output-on-failure \
  -R '^e2e_(one_viewer|three_viewers|stuck_viewer|churn|protocol_errors|branch_error|encoder_failure)$' || status=1
exit $status
