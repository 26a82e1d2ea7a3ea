#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# demo.sh [demo options]: installs what is needed, builds the release preset and runs today's
# demonstration: `metanode demo` (keys, VRF-chained stake-weighted proposers, a signed receipt;
# see `metanode demo --help`, e.g. --json, --validators 7), then the Docklock cage
# (scripts/docklock_demo.sh: one program run twice in the cage with identical outputs,
# witnesses and receipts, verified and replayed; needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh release >&2
echo "######## metanode demo: identities, VRF proposers, signed receipt"
./build/release/bin/metanode demo "$@"
echo
echo "######## docklock: the deterministic cage"
if [ "$(id -u)" -ne 0 ]; then
  echo "(skipped: the cage needs root for its namespaces; run as root to see it)"
  exit 0
fi
exec ./scripts/docklock_demo.sh
