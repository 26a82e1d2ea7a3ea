#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end test of `metanode net probe` against `metanode net serve` on loopback: XX with the
# right and a wrong expected peer id, IK with the static key, --json, usage errors, a port
# where nothing listens, and the stable static key of a key file (key show, serve --key). Usage: test_net_cli.sh METANODE_BINARY
set -uo pipefail
bin=$1
tmp=$(mktemp -d)
srv_pid=
trap '[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL $1"; sed 's/^/  /' "$tmp/out" "$tmp/err" | head -8; }
run() { # run NAME EXPECTED_EXIT COMMAND...
  local name=$1 want=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "$name: exit $got, expected $want"; fi
}

"$bin" net serve 127.0.0.1:0 --seconds 20 >"$tmp/serve" 2>"$tmp/serve.err" &
srv_pid=$!
for _ in $(seq 100); do grep -q '^static ' "$tmp/serve" 2>/dev/null && break; sleep 0.05; done
addr=$(sed -n 's/^listening //p' "$tmp/serve")
id=$(sed -n 's/^id //p' "$tmp/serve")
static=$(sed -n 's/^static //p' "$tmp/serve")
[ -n "$addr" ] && [ ${#id} -eq 64 ] && [ ${#static} -eq 64 ] && ok || bad "serve printed no address"

run "probe xx" 0 "$bin" net probe "$addr" --peer "$id"
grep -q "^peer $id\$" "$tmp/out" && ok || bad "probe xx: peer id not printed"
grep -q '^rtt [0-9]*\.[0-9]* ms$' "$tmp/out" && ok || bad "probe xx: no rtt"
run "probe ik" 0 "$bin" net probe "$addr" --peer "$id" --static "$static" --json
python3 -c "import json,sys; d=json.load(open('$tmp/out')); assert d['peer_id']=='$id' and d['rtt_us']>=0" \
  && ok || bad "probe ik --json"
wrong=$(printf '%064d' 7)
run "probe wrong peer" 1 "$bin" net probe "$addr" --peer "$wrong"
grep -q 'expected' "$tmp/err" && ok || bad "probe wrong peer: no clear log line"
run "probe usage" 2 "$bin" net probe
run "probe bad addr" 2 "$bin" net probe nohost
run "probe bad peer" 2 "$bin" net probe "$addr" --peer xyz
run "probe help" 0 "$bin" net probe --help
port=${addr##*:}
kill "$srv_pid"; wait "$srv_pid" 2>/dev/null; srv_pid=
run "probe nothing listening" 1 "$bin" net probe "127.0.0.1:$port"

# A key file fixes the Noise static key: `key show` publishes it, and every `net serve` with
# that key (here a second process) uses it, so an IK dial with the published key succeeds.
run "key gen" 0 "$bin" key gen --out "$tmp/node.key"
run "key show" 0 "$bin" key show "$tmp/node.key" --json
published=$(python3 -c "import json; print(json.load(open('$tmp/out'))['noise_static_key'])")
[ ${#published} -eq 64 ] && ok || bad "key show: no noise_static_key"
"$bin" net serve 127.0.0.1:0 --seconds 20 --key "$tmp/node.key" >"$tmp/serve2" 2>"$tmp/serve2.err" &
srv_pid=$!
for _ in $(seq 100); do grep -q '^static ' "$tmp/serve2" 2>/dev/null && break; sleep 0.05; done
addr=$(sed -n 's/^listening //p' "$tmp/serve2")
[ "$(sed -n 's/^static //p' "$tmp/serve2")" = "$published" ] && ok || bad "serve --key: static key differs from key show"
run "probe ik with the published key" 0 "$bin" net probe "$addr" --static "$published"
other=$(printf '%064d' 9)
run "probe ik with another key" 1 "$bin" net probe "$addr" --static "$other"
kill "$srv_pid"; wait "$srv_pid" 2>/dev/null; srv_pid=

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
