#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test.sh [--preset NAME] [-L LABEL] [ctest args...]: installs what is needed, builds the
# preset (default dev) and runs the whole CTest suite (or the labels asked for). The shared
# test data must be in ../shared (or $MN_SHARED_DIR); tests fail loudly without it.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=dev
if [ "${1:-}" = "--preset" ]; then preset=$2; shift 2; fi
shared=${MN_SHARED_DIR:-$(pwd)/../shared}
if [ ! -d "$shared/vectors" ]; then
  echo "test: shared test data not found at $shared (set MN_SHARED_DIR)" >&2
  exit 1
fi
./scripts/setup.sh "$preset"
jobs=$(nproc 2>/dev/null || echo 2)
cd "build/${preset}"
MN_SHARED_DIR=$shared ctest --output-on-failure -j "$jobs" "$@"
