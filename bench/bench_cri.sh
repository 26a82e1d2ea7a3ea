#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench_cri.sh: a Kubernetes pod on Docklock against the same pod on runc, through containerd's
# CRI plugin (the set-up of tests/oci/test_cri.sh: a private containerd, runtime handlers
# `docklock` and `runc`, a busybox image and our static pause image, host-network pods). One
# operation is what kubelet does for a one-container pod: RunPodSandbox (the pause container
# starts), CreateContainer, StartContainer, `/bin/sh -c 'echo hello'` runs and exits, observed by
# ContainerStatus polling (2 ms); "start" is RunPodSandbox to the container's exit, "total"
# adds RemoveContainer, StopPodSandbox and RemovePodSandbox. The handlers alternate, N pods
# each; medians and their ratio docklock/runc are printed with the load average. The CRI client
# (tests/oci/cri_pod.py) is a new process per pod; its start-up is outside both figures.
# Usage (as root): bench/bench_cri.sh DOCKLOCK_BINARY [N]   (default N = 10)
set -uo pipefail
bin=$(realpath "$1")
n=${2:-10}
here=$(cd "$(dirname "$0")/../tests/oci" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "bench_cri: needs root"; exit 2; }
tmp=$(mktemp -d /var/tmp/docklock-bcri.XXXXXX)
state=/run/docklock-bench-cri.$$
sock=$state/containerd.sock
daemon=
cleanup() {
  [ -n "$daemon" ] && { kill "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null; }
  unmount_under "$state" "$tmp"
  rm -rf "$tmp" "$state"
}
trap cleanup EXIT
. "$here/lib.sh"
img=localhost/dltest:latest
pause_img=localhost/docklock-pause:test
build_busybox_image $img
build_pause_image $pause_img "$here/pause.c"
start_cri_containerd "$bin" $pause_img
for t in img pause; do
  ctr --address "$sock" -n k8s.io images import "$tmp/$t.tar" >/dev/null ||
    { echo "bench_cri: import failed"; exit 1; }
done

: >"$tmp/runc.tsv"
: >"$tmp/docklock.tsv"
for i in $(seq "$n"); do
  for h in runc docklock; do
    extra=()
    [ $h = docklock ] && extra=(--pod-annotation org.metanode.docklock.mode=relaxed)
    /usr/bin/python3 "$here/cri_pod.py" --socket "$sock" --handler $h --image $img \
      --sandbox-image $pause_img --log-dir "$tmp/logs/$h$i" --name "$h$i" "${extra[@]}" \
      -- /bin/sh -c 'echo hello' >"$tmp/pod.json" ||
      { echo "bench_cri: pod $h$i failed"; cat "$tmp/pod.json"; exit 1; }
    /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
print(d["seconds_pod_to_exit"], d["seconds_total"], sep="\t")' "$tmp/pod.json" >>"$tmp/$h.tsv"
  done
done
load=$(cut -d' ' -f1 /proc/loadavg)
/usr/bin/python3 - "$tmp/runc.tsv" "$tmp/docklock.tsv" "$n" "$load" <<'EOF'
import statistics, sys
def col(path, i):
    return [float(l.split("\t")[i]) for l in open(path) if l.strip()]
runc, dl, n, load = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
for i, what in ((0, "start (RunPodSandbox to container exit)"),
                (1, "total (start + remove container, stop and remove sandbox)")):
    r, d = statistics.median(col(runc, i)), statistics.median(col(dl, i))
    print("cri %s: runc %.1f ms, docklock %.1f ms, ratio %.2f (median of %s pods each, load %s)"
          % (what, r * 1e3, d * 1e3, d / r, n, load))
EOF
