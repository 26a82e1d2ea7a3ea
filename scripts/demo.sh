#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# demo.sh [metanode dev options]: installs what is needed, builds the release preset and runs
# today's demonstration:
#   1. `metanode dev`: a local cluster of validators (default 4) on loopback: keys, a genesis,
#      one `metanode agent` process per validator (ledger on SQLite, Tendermint consensus with
#      VRF-chosen proposers over encrypted BPCI sessions, HTTP API), signed notes sent at a
#      steady rate, every committed block shown, then a check that all nodes hold the same
#      block and state root, and a summary (options: --validators N, --duration S (default 15),
#      --tx-rate R, --json; see `metanode dev --help`);
#   2. the Docklock cage (scripts/docklock_demo.sh: one program run twice in the cage with
#      identical outputs, witnesses and receipts, verified and replayed; needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '3,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
./scripts/setup.sh release >&2
args=("$@")
have_duration=0
for a in "${args[@]}"; do [ "$a" = "--duration" ] && have_duration=1; done
[ "$have_duration" = 1 ] || args+=(--duration 15)
echo "######## metanode dev: a local validator cluster committing signed transactions"
./build/release/bin/metanode dev "${args[@]}"
echo
echo "######## docklock: the deterministic cage"
if [ "$(id -u)" -ne 0 ]; then
  echo "(skipped: the cage needs root for its namespaces; run as root to see it)"
  exit 0
fi
exec ./scripts/docklock_demo.sh
