#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# setup.sh [PRESET...]: installs every Debian package Metanode needs (only the missing ones;
# `apt-get update` only when something is missing), then configures and builds each preset
# (default: dev). Safe to run again and again. Needs root (or sudo) only to install packages.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential   # gcc, make, libc headers
  cmake ninja-build pkg-config
  clang libclang-rt-14-dev   # the clang build and libFuzzer targets
  libsodium-dev     # Ed25519, SHA-2, ChaCha20, X25519 (>= 1.0.18-1+deb12u1, see crypto self-test)
  libjansson-dev    # JSON for people (CLI --json, key files) and for test vectors
  libuv1-dev        # the event loop of the BPCI transport runtime (src/net/transport_uv.c)
  libseccomp-dev    # Docklock: the cage's seccomp filter (allow / errno / trace tiers)
  libsqlite3-dev    # the ledger store (src/ledger/store.c): blocks, txs, state, WAL
  libmicrohttpd-dev # the node's HTTP API server (src/api/server.c), run on the libuv loop
  libcurl4-openssl-dev  # the HTTP client of the CLI verbs (src/api/client.c)
  busybox-static    # Docklock OCI: the lifecycle test bundle (tests/oci/test_lifecycle.sh)
  file              # tests: checks that busybox is the static one
  jq                # tests/oci/test_differential.sh: reads runc's and docklock's state JSON
  podman umoci skopeo runc containerd   # Docklock OCI: podman and containerd drive docklock
                             # (tests/oci/test_podman.sh, test_containerd.sh);
                             # the image is built locally; runc is the baseline (bench_oci)
  python3-grpcio python3-grpc-tools   # Docklock CRI test: a CRI gRPC client (tests/oci/cri_pod.py)
                             # compiling tests/oci/cri_api.proto at run time (tests/oci/test_cri.sh)
  wabt              # wast2json: converts the WebAssembly spec suite for the WASM tests
  python3           # tools/ scripts (reference implementations, vector regeneration)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

presets=("$@")
if ((${#presets[@]} == 0)); then presets=(dev); fi
jobs=$(nproc 2>/dev/null || echo 2)
for preset in "${presets[@]}"; do
  echo "setup: building preset ${preset}" >&2
  cmake --preset "$preset" >/dev/null
  cmake --build "build/${preset}" -j "$jobs"
done
