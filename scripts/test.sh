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

# The sanitizer build: the unit and renderer tests under ASan + UBSan.
scripts/setup.sh --tests --build-dir build-asan -DCS_SANITIZE=ON
ASAN_OPTIONS=detect_leaks=0 ctest --test-dir build-asan --output-on-failure -R '^(unit|renderer)$' || status=1
exit $status
