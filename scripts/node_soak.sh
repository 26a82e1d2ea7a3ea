#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# node_soak.sh: the long versions of the node's integration tests (CI runs shorter ones):
# a validator killed with SIGKILL at 50 random points under load (no lost block, signing state
# never going back, no double sign, no fork), a follower syncing 1,000 blocks from scratch, and
# the crash/halt/resume and validator-join scenarios. About 5 minutes.
# Usage: scripts/node_soak.sh [BUILD_DIR]   (default build/dev; build it first)
set -eu
build=${1:-build/dev}
bin="$build/bin/metanode"
test="$build/tests/node/test_node_cluster"
[ -x "$bin" ] && [ -x "$test" ] || { echo "node_soak: build $build first" >&2; exit 2; }
"$test" "$bin" restarts 50
"$test" "$bin" sync 1000
"$test" "$bin" crash
"$test" "$bin" join
echo "node_soak: all passed"
