#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# sim_seeds.sh [SEEDS] [FIRST] [JOBS]: runs the consensus simulator over SEEDS seeds (default
# 10000) starting at FIRST (default 1), split into JOBS parallel chunks (default 1), and prints
# one summary line with the totals: seeds, heights decided, rounds, deliveries, faults injected,
# equivocations, evidence, runs with Byzantine validators, runs with stakes changing over
# heights, stake changes, "set not known yet" answers, violations (must be 0). Failing
# seeds are printed with their trace and reproduce command; add them to
# tests/sim/regress_seeds.txt. Uses the dev build (BUILD=build/release for speed).
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-10000}
first=${2:-1}
jobs=${3:-1}
build=${BUILD:-build/dev}
bin="$build/tests/sim/test_sim_consensus"
if [ ! -x "$bin" ]; then
  echo "sim_seeds: $bin not built (cmake --preset dev && cmake --build build/dev)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chunk=$(( (seeds + jobs - 1) / jobs ))
for ((j = 0; j < jobs; j++)); do
  start=$(( first + j * chunk ))
  count=$(( seeds - j * chunk < chunk ? seeds - j * chunk : chunk ))
  (( count > 0 )) || continue
  MN_SIM_SEEDS=$count "$bin" --first "$start" >"$tmp/out.$j" 2>"$tmp/err.$j" || true &
done
wait
cat "$tmp"/err.* >&2
# Sum the key=value fields of every chunk's summary line.
cat "$tmp"/out.* | awk '/^sim: seeds=/ {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[2] ~ /^[0-9]+$/) sum[kv[1]] += kv[2] }
  } END {
    printf "sim: seeds=%d heights=%d rounds=%d deliveries=%d faults=%d equivocations=%d evidence=%d byzantine_runs=%d dynamic_runs=%d stake_changes=%d unknown_sets=%d violations=%d\n",
      sum["seeds"], sum["heights"], sum["rounds"], sum["deliveries"], sum["faults"],
      sum["equivocations"], sum["evidence"], sum["byzantine_runs"], sum["dynamic_runs"],
      sum["stake_changes"], sum["unknown_sets"], sum["violations"]
    exit (sum["violations"] == 0 && sum["seeds"] > 0) ? 0 : 1
  }'
