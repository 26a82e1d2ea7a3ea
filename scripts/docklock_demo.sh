#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# docklock_demo.sh: the cage in one command (as root). Builds the release preset, runs a shell
# script that prints the time, random numbers (Python), a four-thread race on a shared counter
# and four forked children's output order, twice in the cage, shows that
# the outputs, witnesses and receipt cores are identical, verifies the receipt against its
# witness, and replays the witness. Then the same as an OCI runtime: a busybox container run
# twice through the runc command line with a line piped to its stdin (recorded in the witness),
# same output and receipt core, and the witness replayed with the same input. Files go to a
# fresh directory under /var/tmp (not /tmp: the cage has its own /tmp), which is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh release >&2
dl=$PWD/build/release/bin/docklock
dir=$(mktemp -d /var/tmp/docklock-demo.XXXXXX)
nd=$PWD/build/release/tests/docklock/nd
prog="python3 -c 'import random, time, uuid; print(time.time(), random.random(), uuid.uuid4())'; $nd/nd_threads; $nd/nd_fork_order"
for run in 1 2; do
  echo "== run $run"
  key=(--key "$dir/node.key")
  [ "$run" -eq 1 ] && key=()
  "$dl" run --witness "$dir/w$run" --receipt "$dir/r$run" ${key[@]+"${key[@]}"} \
    -- /bin/sh -c "$prog" | tee "$dir/out$run"
  [ "$run" -eq 1 ] && mv "$dir/r1.key" "$dir/node.key"
done
cmp "$dir/out1" "$dir/out2" && echo "== identical outputs"
cmp "$dir/w1" "$dir/w2" && echo "== identical witnesses"
core() { "$dl" inspect --json "$1" | grep '"core_hash"'; }
[ "$(core "$dir/r1")" = "$(core "$dir/r2")" ] && echo "== identical receipt cores: $(core "$dir/r1")"
echo "== verify"; "$dl" verify --receipt "$dir/r1" --witness "$dir/w1"
echo "== replay"; "$dl" replay --witness "$dir/w1" --receipt "$dir/r1"

echo "== Docklock as an OCI runtime: a busybox container through the runc command line"
ob=$dir/bundle
mkdir -p "$ob/rootfs/bin"
cp /bin/busybox "$ob/rootfs/bin/busybox" # Debian's busybox-static (scripts/setup.sh)
for t in sh echo date head od; do ln -s busybox "$ob/rootfs/bin/$t"; done
cat >"$ob/config.json" <<JSON
{"ociVersion": "1.0.2",
 "process": {"args": ["/bin/sh", "-c",
             "read name; echo hello \$name; date; head -c 8 /dev/urandom | od -An -tx1"],
             "env": ["PATH=/bin"], "cwd": "/"},
 "root": {"path": "rootfs", "readonly": true},
 "annotations": {"org.metanode.docklock.seed":
                 "0707070707070707070707070707070707070707070707070707070707070707",
                 "org.metanode.docklock.key": "$dir/node.key",
                 "org.metanode.docklock.witness": "$dir/",
                 "org.metanode.docklock.receipt": "$dir/"}}
JSON
for run in 1 2; do
  echo "== container run $run: echo metanode | docklock --root $dir/state run -b BUNDLE c$run"
  echo metanode | "$dl" --root "$dir/state" run -b "$ob" "c$run" | tee "$dir/oci_out$run"
done
cmp "$dir/oci_out1" "$dir/oci_out2" && echo "== identical container outputs"
[ "$(core "$dir/c1.receipt")" = "$(core "$dir/c2.receipt")" ] &&
  echo "== identical receipt cores: $(core "$dir/c1.receipt")"
echo "== verify"; "$dl" verify --receipt "$dir/c1.receipt" --witness "$dir/c1.witness"
echo "== replay (the piped line comes back from the witness)"
"$dl" replay --witness "$dir/c1.witness" --receipt "$dir/c1.receipt" --rootfs "$ob/rootfs"
echo "== files in $dir"
