#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# demo.sh [demo options]: installs what is needed, builds the release preset and runs
# `metanode demo` (see `metanode demo --help` for options, e.g. --json, --validators 7).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh release >&2
exec ./build/release/bin/metanode demo "$@"
