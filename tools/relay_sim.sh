#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# relay_sim.sh [NODES] [MESSAGES] [SEED]: runs the relay simulator's full configuration (default
# 1,000 nodes, 200 messages, seed 1) and prints one summary line per scenario: baseline, 20 %
# loss, censorship, invalid-message spam, sybil connection flood, eclipse (10 runs). Exit 0
# when every scenario passes its check. Uses the dev build (BUILD=build/release for speed).
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${1:-1000}
messages=${2:-200}
seed=${3:-1}
build=${BUILD:-build/dev}
bin="$build/tests/sim/test_sim_relay"
if [ ! -x "$bin" ]; then
  echo "relay_sim: $bin not built (cmake --preset dev && cmake --build build/dev)" >&2
  exit 1
fi
exec "$bin" --nodes "$nodes" --messages "$messages" --seed "$seed" --scenario all --runs 10
