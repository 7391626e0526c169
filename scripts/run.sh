#!/usr/bin/env bash
# Sets up (packages + build) and runs the server on its defaults
# (http://localhost:8080). Any CS_ variable in the environment applies.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
scripts/setup.sh
exec build/cube-streamer "$@"
