#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end tests of the docklock command: exit codes (pass-through, 124 limit, 127 not found,
# 2 usage), two plain runs with identical witnesses and receipt cores, verify (valid, tampered
# witness, tampered receipt, witness of another run), replay, inspect of both file kinds.
# Usage: test_cli.sh DOCKLOCK_BINARY ND_DIR   (as root; exits 77 otherwise)
set -uo pipefail
bin=$1 nd=$2
[ "$(id -u)" -eq 0 ] || { echo "skip: the cage needs root"; exit 77; }
tmp=$(mktemp -d /var/tmp/docklock-cli.XXXXXX) # not /tmp: the cage has its own /tmp
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

check() { # check NAME EXPECTED_EXIT COMMAND...
  local name=$1 want=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL $name: exit $got, expected $want"
    sed 's/^/  stdout: /' "$tmp/out" | head -5; sed 's/^/  stderr: /' "$tmp/err" | head -5
  fi
}
expect() { # expect NAME FILE STRING
  if grep -qF -- "$3" "$2"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL $1: $2 lacks '$3'"; head -5 "$2"; fi
}

check usage 2 "$bin" run
check not_found 127 "$bin" run -- /no/such/program
check exit_passes_through 3 "$bin" run -- /bin/sh -c 'exit 3'
check signal_exit 139 "$bin" run -- /usr/bin/python3 -c 'import ctypes; ctypes.string_at(0)'
check time_limit 124 "$bin" run --time-limit 200 -- /bin/sh -c 'while :; do :; done'
expect time_limit_message "$tmp/err" "time limit"
check unmodelled 124 "$bin" run -- /usr/bin/python3 -c 'import signal; signal.setitimer(signal.ITIMER_REAL, 1)'
expect unmodelled_names_it "$tmp/err" "syscall setitimer"
check run1 0 "$bin" run --witness "$tmp/w1" --receipt "$tmp/r1" -- "$nd/nd_clock_vdso"
cp "$tmp/out" "$tmp/out1"
check run2 0 "$bin" run --witness "$tmp/w2" --receipt "$tmp/r2" --key "$tmp/r1.key" \
  -- "$nd/nd_clock_vdso"
cp "$tmp/out" "$tmp/out2"
check same_stdout 0 cmp "$tmp/out1" "$tmp/out2"
check same_witness 0 cmp "$tmp/w1" "$tmp/w2"
check verify 0 "$bin" verify --receipt "$tmp/r1" --witness "$tmp/w1"
check run_other_seed 0 "$bin" run --witness "$tmp/w3" --seed \
  0101010101010101010101010101010101010101010101010101010101010101 -- "$nd/nd_clock_vdso"
check verify_other_witness 1 "$bin" verify --receipt "$tmp/r1" --witness "$tmp/w3"
cp "$tmp/w1" "$tmp/wbad"
printf '\x41' | dd of="$tmp/wbad" bs=1 seek=300 conv=notrunc 2>/dev/null
check verify_tampered_witness 1 "$bin" verify --receipt "$tmp/r1" --witness "$tmp/wbad"
cp "$tmp/r1" "$tmp/rbad"
printf '\x41' | dd of="$tmp/rbad" bs=1 seek=100 conv=notrunc 2>/dev/null
check verify_tampered_receipt 1 "$bin" verify --receipt "$tmp/rbad"
mkdir "$tmp/out_dir"
check output_dir 0 "$bin" run --output-dir "$tmp/out_dir" --witness "$tmp/wo" --receipt "$tmp/ro" \
  --key "$tmp/r1.key" -- /bin/sh -c "echo data > $tmp/out_dir/f"
check output_dir_written 0 grep -q data "$tmp/out_dir/f"
check output_dir_verify 0 "$bin" verify --receipt "$tmp/ro" --witness "$tmp/wo"
check output_dir_not_empty 125 "$bin" run --output-dir "$tmp/out_dir" -- /bin/true
check replay 0 "$bin" replay --witness "$tmp/w1" --receipt "$tmp/r1"
expect replay_identical "$tmp/out" "replay: identical"
check inspect_witness 0 "$bin" inspect "$tmp/w1"
expect inspect_root "$tmp/out" "root "
check inspect_receipt 0 "$bin" inspect --json "$tmp/r1"
expect inspect_valid "$tmp/out" '"signature_valid": true'

echo "docklock cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
