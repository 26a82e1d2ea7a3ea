#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end test of the client verbs (metanode status, block get, validators, tx send) against
# api_test_server (a one-validator fixture chain behind the real HTTP API) on loopback: text
# and --json output, --node and --home, a refused request (exit 1), an unreachable node
# (exit 3) and usage errors (exit 2). Usage: test_client_cli.sh METANODE_BINARY SERVER_BINARY
set -uo pipefail
bin=$1
server=$2
tmp=$(mktemp -d)
srv_pid=
trap '[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL $1"; sed 's/^/  /' "$tmp/out" "$tmp/err" | head -8; }
run() { # run NAME EXPECTED_EXIT COMMAND...
  local name=$1 want=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "$name: exit $got, expected $want"; fi
}
json() { python3 -c "import json,sys; d=json.load(open('$tmp/out')); sys.exit(0 if ($1) else 1)"; }

"$server" "$tmp/chain-XXXXXX" "$tmp/port" 2>"$tmp/server.err" &
srv_pid=$!
for _ in $(seq 200); do [ -s "$tmp/port" ] && break; sleep 0.05; done
port=$(cat "$tmp/port" 2>/dev/null)
[ -n "$port" ] && ok || { bad "server did not start"; cat "$tmp/server.err"; exit 1; }
node="http://127.0.0.1:$port"

run "status" 0 "$bin" status --node "$node"
grep -q '^chain: *api-test$' "$tmp/out" && grep -q '^height: *1$' "$tmp/out" && ok \
  || bad "status text"
run "status json" 0 "$bin" status --node "$node" --json
json "d['chain_id']=='api-test' and d['height']==1 and len(d['state_root'])==64" && ok \
  || bad "status json fields"
METANODE_NODE="$node" run "status env" 0 "$bin" status
mkdir -p "$tmp/home"
echo "{\"listen\":\"127.0.0.1:1\",\"api\":\"127.0.0.1:$port\",\"peers\":[],\"log_level\":\"info\"}" \
  >"$tmp/home/config.json"
run "status home" 0 "$bin" status --home "$tmp/home"
run "status bad home" 3 "$bin" status --home "$tmp/nohome"

run "block get 1" 0 "$bin" block get 1 --node "$node"
grep -q '^txs: *1$' "$tmp/out" && ok || bad "block get 1: one tx"
run "block get latest json" 0 "$bin" block get latest --node "$node" --json
json "d['height']==1 and d['body']['tx_count']==1 and d['commit']['signatures']==1" && ok \
  || bad "block json"
run "block get missing" 1 "$bin" block get 99 --node "$node"
grep -q 'not_found' "$tmp/err" && ok || bad "block missing: error code shown"
run "block get bad" 2 "$bin" block get abc --node "$node"
run "block get none" 2 "$bin" block get --node "$node"

run "validators" 0 "$bin" validators --node "$node"
grep -q '100.00%' "$tmp/out" && ok || bad "validators: power share"
run "validators json" 0 "$bin" validators --node "$node" --json
json "len(d['validators'])==1 and d['validators'][0]['power_bp']==10000" && ok || bad "validators json"

run "key gen" 0 "$bin" key gen --out "$tmp/user.key"
run "tx send" 0 "$bin" tx send --key "$tmp/user.key" --note "hello from the cli" --node "$node"
hash=$(cat "$tmp/out")
[ ${#hash} -eq 64 ] && ok || bad "tx send: hash printed"
# Committed within a tick (200 ms): the tx is then visible and its nonce used.
found=
for _ in $(seq 50); do
  "$bin" status --node "$node" --json >"$tmp/out" 2>"$tmp/err"
  json "d['height']>=2" && { found=1; break; }
  sleep 0.1
done
[ -n "$found" ] && ok || bad "tx send: not committed"
python3 -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('$node/txs/$hash').read().decode())" \
  >"$tmp/out" && json "d['note']=='hello from the cli' and d['nonce']==1" \
  && ok || bad "GET /txs/hash after tx send"
run "tx send nonce 2" 0 "$bin" tx send --key "$tmp/user.key" --note "second" --node "$node" --json
json "d['nonce']==2 and len(d['hash'])==64" && ok || bad "tx send json"
run "tx send reused nonce" 1 "$bin" tx send --key "$tmp/user.key" --note "again" --nonce 1 \
  --node "$node"
grep -q 'nonce_reused' "$tmp/err" && ok || bad "reused nonce: error code shown"
run "tx send no key" 3 "$bin" tx send --key "$tmp/none.key" --note x --node "$node"
run "tx send usage" 2 "$bin" tx send --note x --node "$node"
run "tx send big note" 2 "$bin" tx send --key "$tmp/user.key" --note "$(head -c 2000 /dev/zero | tr '\0' a)" --node "$node"
run "tx send help" 0 "$bin" tx send --help

run "unreachable status" 3 "$bin" status --node http://127.0.0.1:1
run "unreachable block" 3 "$bin" block get 1 --node http://127.0.0.1:1
run "unreachable validators" 3 "$bin" validators --node http://127.0.0.1:1
run "unreachable tx" 3 "$bin" tx send --key "$tmp/user.key" --note x --node http://127.0.0.1:1
run "not http" 3 "$bin" status --node ftp://127.0.0.1:1
run "status usage" 2 "$bin" status extra
run "status help" 0 "$bin" status --help

echo "client cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
