#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# containerd drives docklock through its stock runc shim (containerd-shim-runc-v2): a private
# containerd (own root, state and socket, stopped at the end) imports a one-layer busybox image
# built with umoci and skopeo, and `ctr run --runc-binary docklock` runs it twice with a seed
# and witness/receipt annotations: same output (clock and /dev/urandom included), receipts that
# `docklock verify` accepts, the same receipt core; runc runs the same image as the baseline.
# Usage: test_containerd.sh DOCKLOCK_BINARY   (as root; exits 77 otherwise)
set -uo pipefail
bin=$1
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
for tool in containerd ctr umoci skopeo runc; do
  command -v $tool >/dev/null || { echo "FAIL: $tool missing: run scripts/setup.sh"; exit 1; }
done
tmp=$(mktemp -d /var/tmp/docklock-ctrd.XXXXXX)
state=/run/docklock-test-ctrd.$$
sock=$state/containerd.sock
containerd --root "$tmp/root" --state "$state" --address "$sock" >"$tmp/containerd.log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$tmp" "$state"' EXIT
. "$(dirname "$0")/lib.sh"
c() { timeout 120 ctr --address "$sock" "$@"; }
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done

build_busybox_image localhost/dltest:latest
check import 0 c images import "$tmp/img.tar"
img=localhost/dltest:latest

script='echo hello; date +%s; head -c 16 /dev/urandom | od -An -tx1'
seed=0303030303030303030303030303030303030303030303030303030303030303
"$bin" run --receipt "$tmp/keyrun" -- /bin/true >/dev/null 2>&1 # makes $tmp/keyrun.key
check runc_baseline 0 c run --rm --runc-binary "$(command -v runc)" "$img" base \
  /bin/sh -c "$script"
for i in 1 2; do
  check ctr_run$i 0 c run --rm --runc-binary "$bin" \
    --annotation org.metanode.docklock.seed=$seed \
    --annotation org.metanode.docklock.key="$tmp/keyrun.key" \
    --annotation org.metanode.docklock.witness="$tmp/w$i" \
    --annotation org.metanode.docklock.receipt="$tmp/r$i" "$img" "dl$i" /bin/sh -c "$script"
  cp "$tmp/out" "$tmp/out$i"
  check verify$i 0 "$bin" verify --receipt "$tmp/r$i" --witness "$tmp/w$i"
  "$bin" inspect --json "$tmp/r$i" | grep '"core_hash"' >"$tmp/core$i"
done
check output_seen 0 grep -q hello "$tmp/out1"
check same_output 0 cmp "$tmp/out1" "$tmp/out2"
check same_core 0 cmp "$tmp/core1" "$tmp/core2"
check core_not_empty 0 test -s "$tmp/core1"
check exit_status 3 c run --rm --runc-binary "$bin" "$img" dl3 /bin/sh -c 'exit 3'

echo "containerd: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
