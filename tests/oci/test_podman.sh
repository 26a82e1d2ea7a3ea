#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# podman drives docklock as its OCI runtime: an image built locally from busybox-static with
# umoci and skopeo (no registry) is loaded with `podman load`; `podman run --rm --runtime
# docklock --network none` runs it twice with a seed and witness/receipt annotations: same
# output (including the container's clock and /dev/urandom), receipts that `docklock verify`
# accepts, same receipt core (with a fixed --hostname: podman puts HOSTNAME=<container id> in
# the environment, which is part of the run's configuration; and a fixed --name: podman writes
# the container's name into the bind-mounted /etc/hosts, whose content is an input of the run);
# and runc runs the same image (the baseline works on this host).
# Also stdin (`podman run -i`) and a shell on a terminal (`podman run -it`, through script(1)).
# podman's default rlimits fail with every runtime here (no capability to raise them): a
# containers.conf with `default_ulimits = []` is used (docs/oci.md).
# Usage: test_podman.sh DOCKLOCK_BINARY   (as root; exits 77 otherwise)
set -uo pipefail
bin=$1
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
for tool in podman umoci skopeo runc; do
  command -v $tool >/dev/null || { echo "FAIL: $tool missing: run scripts/setup.sh"; exit 1; }
done
tmp=$(mktemp -d /var/tmp/docklock-podman.XXXXXX)
tag=localhost/docklock-test-$$:latest
export CONTAINERS_CONF=$tmp/containers.conf
printf '[containers]\ndefault_ulimits = []\n' >"$CONTAINERS_CONF"
trap 'podman rmi -f "$tag" >/dev/null 2>&1; [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

build_busybox_image "$tag"
check load 0 podman load -i "$tmp/img.tar"

script='echo hello; date +%s; head -c 16 /dev/urandom | od -An -tx1'
seed=0202020202020202020202020202020202020202020202020202020202020202
"$bin" run --receipt "$tmp/keyrun" -- /bin/true >/dev/null 2>&1 # makes $tmp/keyrun.key
check key_made 0 test -s "$tmp/keyrun.key"
check runc_baseline 0 podman run --rm --network none --runtime "$(command -v runc)" "$tag" \
  /bin/sh -c "$script"
for i in 1 2; do
  check podman_run$i 0 podman run --rm --network none --hostname docklock \
    --name docklock-test-$$ --runtime "$bin" \
    --annotation org.metanode.docklock.seed=$seed \
    --annotation org.metanode.docklock.key="$tmp/keyrun.key" \
    --annotation org.metanode.docklock.witness="$tmp/w$i" \
    --annotation org.metanode.docklock.receipt="$tmp/r$i" "$tag" /bin/sh -c "$script"
  cp "$tmp/out" "$tmp/out$i"
  check verify$i 0 "$bin" verify --receipt "$tmp/r$i" --witness "$tmp/w$i"
  "$bin" inspect --json "$tmp/r$i" | grep '"core_hash"' >"$tmp/core$i"
done
check output_seen 0 grep -q hello "$tmp/out1"
check same_output 0 cmp "$tmp/out1" "$tmp/out2"
check same_core 0 cmp "$tmp/core1" "$tmp/core2"
check core_not_empty 0 test -s "$tmp/core1"

# stdin (podman run -i) and a terminal (podman run -it, driven through script(1), which
# gives podman a terminal and types into it once the shell is up)
printf 'piped line\n' | podman run -i --rm --network none --runtime "$bin" "$tag" \
  /bin/sh -c 'cat; echo end' >"$tmp/stdin.out" 2>&1
check stdin_forwarded 0 grep -qx 'piped line' "$tmp/stdin.out"
check stdin_eof 0 grep -qx end "$tmp/stdin.out"
(sleep 3; printf 'echo via podman tty; exit 4\n'; sleep 3) |
  script -qec "podman run -it --rm --network none --runtime $bin $tag /bin/sh" /dev/null \
  >"$tmp/tty.out" 2>&1
tty_rc=${PIPESTATUS[1]}
check tty_exit_status 0 test "$tty_rc" -eq 4
check tty_output 0 grep -q '^via podman tty' "$tmp/tty.out"

echo "podman: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
