# SPDX-License-Identifier: Apache-2.0
# lib.sh: shared by the OCI shell tests and bench/bench_cri.sh (sourced, not run). Expects $tmp
# (a scratch directory) and counts into $passed / $failed. Not here: the checks of one client.

passed=0 failed=0

# check NAME EXPECTED_EXIT COMMAND...: runs COMMAND with its output in $tmp/out and $tmp/err.
check() {
  local name=$1 want=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  local got=$?
  if [ "$got" -eq "$want" ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL $name: exit $got, expected $want"
    sed 's/^/  stdout: /' "$tmp/out" | head -5; sed 's/^/  stderr: /' "$tmp/err" | head -5
  fi
}

# build_busybox_image TAG: a one-layer image (busybox and a few links, cmd /bin/sh) built
# locally with umoci and skopeo (no registry), written to $tmp/img.tar as a docker archive.
build_busybox_image() {
  (cd "$tmp" && umoci init --layout img && umoci new --image img:latest &&
    umoci unpack --image img:latest bundle &&
    mkdir -p bundle/rootfs/bin && cp /bin/busybox bundle/rootfs/bin/ &&
    for t in sh echo cat head od date; do ln -s busybox bundle/rootfs/bin/$t; done &&
    umoci repack --image img:latest bundle &&
    umoci config --image img:latest --config.cmd /bin/sh --config.env PATH=/bin &&
    skopeo copy oci:img:latest "docker-archive:img.tar:$1") >"$tmp/build.log" 2>&1 ||
    { echo "FAIL: building the image"; tail -5 "$tmp/build.log"; exit 1; }
}

# build_pause_image TAG PAUSE_SOURCE: the pod sandbox image of the CRI test: tests/oci/pause.c
# compiled statically (cc -static) as /pause, the image's entrypoint, written to
# $tmp/pause.tar as a docker archive (umoci and skopeo, no registry).
build_pause_image() {
  (cd "$tmp" && cc -O2 -static -o pause "$2" && umoci init --layout pimg &&
    umoci new --image pimg:latest && umoci unpack --image pimg:latest pbundle &&
    cp pause pbundle/rootfs/pause && umoci repack --image pimg:latest pbundle &&
    umoci config --image pimg:latest --config.entrypoint /pause &&
    skopeo copy oci:pimg:latest "docker-archive:pause.tar:$1") >"$tmp/pbuild.log" 2>&1 ||
    { echo "FAIL: building the pause image"; tail -5 "$tmp/pbuild.log"; exit 1; }
}

# start_cri_containerd DOCKLOCK SANDBOX_IMAGE: a private containerd (root $tmp/root, state
# $state, socket $sock; the caller sets $state and $sock and stops $daemon at exit) with the
# CRI plugin, the runtime handlers `runc` (the default) and `docklock` (the runc shim running
# DOCKLOCK, Docklock's annotations passed through from pods and containers), SANDBOX_IMAGE as
# the pause image and an empty CNI configuration (the test's pods use the host network). Each
# handler has its own runtime root under $state. restrict_oom_score_adj: these machines lack
# CAP_SYS_RESOURCE, so the sandbox's oom_score_adj -998 would fail with runc (docs/kubernetes.md).
# The config is $tmp/containerd.toml.
start_cri_containerd() {
  mkdir -p "$tmp/cni/bin" "$tmp/cni/net.d" "$state"
  local cri='plugins."io.containerd.grpc.v1.cri"'
  cat >"$tmp/containerd.toml" <<TOML
version = 2
root = "$tmp/root"
state = "$state"
[grpc]
  address = "$sock"
[$cri]
  sandbox_image = "$2"
  restrict_oom_score_adj = true
  [$cri.cni]
    bin_dir = "$tmp/cni/bin"
    conf_dir = "$tmp/cni/net.d"
  [$cri.containerd]
    default_runtime_name = "runc"
    [$cri.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [$cri.containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        Root = "$state/runc"
    [$cri.containerd.runtimes.docklock]
      runtime_type = "io.containerd.runc.v2"
      pod_annotations = ["org.metanode.docklock.*"]
      container_annotations = ["org.metanode.docklock.*"]
      [$cri.containerd.runtimes.docklock.options]
        BinaryName = "$1"
        Root = "$state/docklock"
TOML
  containerd --config "$tmp/containerd.toml" >"$tmp/containerd.log" 2>&1 &
  daemon=$!
  for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ] || { echo "FAIL: containerd did not start"; tail -5 "$tmp/containerd.log"; exit 1; }
}

# unmount_under DIR...: lazily unmounts whatever is still mounted below the DIRs (deepest
# first), e.g. a container's rootfs left by a daemon that died, before they are removed.
unmount_under() {
  local d m
  for d in "$@"; do
    awk -v d="$d/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts
  done | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
}
