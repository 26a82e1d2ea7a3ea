#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end tests of the metanode command: exit codes, key file permissions, VRF against the
# RFC 9381 vectors, Merkle roots against the RFC 6962 vectors, and receipts from the demo.
# Usage: test_cli.sh METANODE_BINARY   (MN_SHARED_DIR must point at the shared data)
set -uo pipefail
bin=$1
shared=${MN_SHARED_DIR:?MN_SHARED_DIR is not set}
[ -f "$shared/vectors/ecvrf_rfc9381.json" ] || { echo "shared vectors missing in $shared"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

check() { # check NAME EXPECTED_EXIT COMMAND...
  local name=$1 want=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $name: exit $got, expected $want"; sed 's/^/  stdout: /' "$tmp/out" | head -5
    sed 's/^/  stderr: /' "$tmp/err" | head -5
  fi
}
expect_out() { # expect_out NAME STRING: the last command's stdout contains STRING
  if grep -qF -- "$2" "$tmp/out"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL $1: output lacks '$2'"; head -5 "$tmp/out"; fi
}
vec() { python3 -c "import json,sys; d=json.load(open('$shared/vectors/$1')); print(eval(sys.argv[1]))" "$2"; }

# usage and help
check "no args" 2 "$bin"
check "help" 0 "$bin" --help
check "unknown command" 2 "$bin" frobnicate
for v in "key gen" "key show" "vrf prove" "vrf verify" "hash merkle" "receipt show" "receipt verify" "demo" "wasm validate" "wasm run"; do
  check "$v --help" 0 $bin $v --help
  expect_out "$v --help" "usage: metanode $v"
done
check "key gen without --out" 2 "$bin" key gen

# keys: mode 0600, refused when readable by others
check "key gen" 0 "$bin" key gen --out "$tmp/id.key" --json
expect_out "key gen json" '"public_key"'
[ "$(stat -c %a "$tmp/id.key")" = 600 ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL key mode"; }
check "key gen refuses overwrite" 3 "$bin" key gen --out "$tmp/id.key"
check "key show" 0 "$bin" key show "$tmp/id.key"
chmod 644 "$tmp/id.key"
check "key show refuses 0644" 3 "$bin" key show "$tmp/id.key"
grep -q "chmod 600" "$tmp/err" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL chmod hint"; }
check "vrf prove refuses a signing key" 3 "$bin" vrf prove --key "$tmp/id.key" --alpha ""

# VRF: RFC 9381 examples through the CLI, and our own prove/verify round trip
for suite in tai ell2; do
  key=ECVRF-EDWARDS25519-SHA512-${suite^^}
  n=$(vec ecvrf_rfc9381.json "len(d['$key']['examples'])" 2>/dev/null || echo 0)
  [ "$n" -gt 0 ] || { failed=$((failed + 1)); echo "FAIL no $suite vectors"; continue; }
  for i in $(seq 0 $((n - 1))); do
    pk=$(vec ecvrf_rfc9381.json "d['$key']['examples'][$i]['PK']")
    alpha=$(vec ecvrf_rfc9381.json "d['$key']['examples'][$i]['alpha']")
    pi=$(vec ecvrf_rfc9381.json "d['$key']['examples'][$i]['pi']")
    beta=$(vec ecvrf_rfc9381.json "d['$key']['examples'][$i]['beta']")
    check "vrf verify $suite $i" 0 "$bin" vrf verify --suite $suite --pubkey "$pk" --alpha "$alpha" --proof "$pi"
    expect_out "vrf beta $suite $i" "$beta"
    bad=$(printf '%s' "$pi" | sed 's/^\(.\{100\}\)./\1f/')
    [ "$bad" = "$pi" ] && bad=$(printf '%s' "$pi" | sed 's/^\(.\{100\}\)./\10/')
    check "vrf verify tampered $suite $i" 1 "$bin" vrf verify --suite $suite --pubkey "$pk" --alpha "$alpha" --proof "$bad"
  done
done
check "vrf key gen" 0 "$bin" key gen --type vrf --out "$tmp/vrf.key" --json
vpk=$(python3 -c "import json; print(json.load(open('$tmp/out'))['public_key'])")
check "vrf prove" 0 "$bin" vrf prove --key "$tmp/vrf.key" --alpha 0a0b --suite ell2 --json
proof=$(python3 -c "import json; print(json.load(open('$tmp/out'))['proof'])")
check "vrf verify own" 0 "$bin" vrf verify --suite ell2 --pubkey "$vpk" --alpha 0a0b --proof "$proof"
check "vrf verify wrong alpha" 1 "$bin" vrf verify --suite ell2 --pubkey "$vpk" --alpha 0a0c --proof "$proof"
check "vrf verify wrong suite" 1 "$bin" vrf verify --suite tai --pubkey "$vpk" --alpha 0a0b --proof "$proof"
check "vrf verify bad hex" 3 "$bin" vrf verify --pubkey zz --alpha "" --proof "$proof"

# Merkle: the RFC 6962 test tree, leaf by leaf as files
leaves=()
for i in $(seq 0 7); do
  vec merkle_rfc6962.json "d['leaves_hex'][$i]" |
    python3 -c "import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))" > "$tmp/leaf$i"
  leaves+=("$tmp/leaf$i")
done
check "hash merkle" 0 "$bin" hash merkle --json "${leaves[@]}"
want=$(vec merkle_rfc6962.json "d['roots_by_size']['8']")
expect_out "merkle root of 8 leaves" "$want"
check "hash merkle inclusion" 0 "$bin" hash merkle --inclusion 5 --consistency 3 "${leaves[@]}"
check "hash merkle index out of range" 3 "$bin" hash merkle --inclusion 8 "${leaves[@]}"
check "hash merkle missing file" 3 "$bin" hash merkle "$tmp/nope"

# receipts from the demo
check "demo" 0 "$bin" demo --out "$tmp/demo" --validators 5 --heights 6 --json
expect_out "demo receipt" '"signature_valid": true'
check "receipt verify" 0 "$bin" receipt verify "$tmp/demo/receipt.cbor"
check "receipt show" 0 "$bin" receipt show --json "$tmp/demo/receipt.cbor"
signer=$(python3 -c "import json; print(json.load(open('$tmp/out'))['signer'])")
check "receipt verify signer" 0 "$bin" receipt verify --pubkey "$signer" "$tmp/demo/receipt.cbor"
check "receipt verify other signer" 1 "$bin" receipt verify --pubkey "$vpk" "$tmp/demo/receipt.cbor"
python3 - "$tmp/demo/receipt.cbor" "$tmp/tampered.cbor" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read()); b[-70] ^= 1; open(sys.argv[2], 'wb').write(b)
PY
check "receipt verify tampered" 1 "$bin" receipt verify "$tmp/tampered.cbor"
head -c 20 "$tmp/demo/receipt.cbor" > "$tmp/short.cbor"
check "receipt verify truncated" 3 "$bin" receipt verify "$tmp/short.cbor"

# WASM: validate and run with fuel (modules built with wat2wasm from wabt)
cat > "$tmp/t.wat" <<'WAT'
(module
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "spin") (loop br 0))
  (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func (export "nan") (param f64) (result f64) local.get 0 local.get 0 f64.sub))
WAT
wat2wasm "$tmp/t.wat" -o "$tmp/t.wasm" || { failed=$((failed + 1)); echo "FAIL wat2wasm missing"; }
check "wasm validate" 0 "$bin" wasm validate "$tmp/t.wasm"
expect_out "wasm validate exports" "4 exports"
check "wasm run add" 0 "$bin" wasm run "$tmp/t.wasm" --invoke add 40 -2
expect_out "wasm add result" "i32:38"
expect_out "wasm fuel reported" "fuel used: 3"
check "wasm run fuel exhausted" 1 "$bin" wasm run "$tmp/t.wasm" --invoke spin --fuel 5000
expect_out "wasm fuel trap" "trap: fuel exhausted"
check "wasm run trap" 1 "$bin" wasm run "$tmp/t.wasm" --invoke div 1 0
expect_out "wasm div trap" "integer divide by zero"
check "wasm canonical NaN" 0 "$bin" wasm run "$tmp/t.wasm" --invoke nan 0x7ff4000000000001 --json
expect_out "wasm NaN canonicalised" "0x7ff8000000000000"
check "wasm run wrong arity" 3 "$bin" wasm run "$tmp/t.wasm" --invoke add 1
check "wasm run no such export" 3 "$bin" wasm run "$tmp/t.wasm" --invoke nope
head -c 9 "$tmp/t.wasm" > "$tmp/bad.wasm"
check "wasm validate truncated" 1 "$bin" wasm validate "$tmp/bad.wasm"
expect_out "wasm invalid reason" "INVALID"

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
