# SPDX-License-Identifier: Apache-2.0
# lib.sh: shared by the OCI shell tests (sourced, not run). Expects $tmp (a scratch directory)
# and counts into $passed / $failed. Not here: anything specific to one client.

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
