#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The container's stdio under docklock as an OCI runtime (docs/oci.md §2.2): output streamed
# while the container runs, stdin as live input recorded in the witness (replay from the
# witness alone gives the same receipt; empty stdin leaves the run as it was), the terminal
# through runc's console socket (CONSOLE_PEER drives a shell), and exec into a running
# container. All on a busybox-static bundle.
# Usage: test_stdio.sh DOCKLOCK_BINARY CONSOLE_PEER   (as root; exits 77 otherwise)
set -uo pipefail
bin=$1 peer=$2
[ "$(id -u)" -eq 0 ] || { echo "skip: the cage needs root"; exit 77; }
busybox=/bin/busybox
if ! file -L "$busybox" 2>/dev/null | grep -q "statically linked"; then
  echo "FAIL: $busybox is not a static busybox: install busybox-static (scripts/setup.sh)"
  exit 1
fi
tmp=$(mktemp -d /var/tmp/docklock-stdio.XXXXXX) # not /tmp: the cage has its own /tmp
root=$tmp/state
cleanup() {
  for id in $("$bin" --root "$root" list --quiet 2>/dev/null); do
    "$bin" --root "$root" delete --force "$id" >/dev/null 2>&1
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/lib.sh"
dl() { "$bin" --root "$root" "$@"; }
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
same() { # same NAME FILE WANT_TEXT
  if [ "$(cat "$2")" = "$3" ]; then ok; else bad "$1: got '$(head -c 300 "$2")', want '$3'"; fi
}

mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/proc" "$tmp/rootfs/dev" "$tmp/rootfs/tmp"
cp "$busybox" "$tmp/rootfs/bin/busybox"
for t in sh echo cat true sleep stty tty head; do ln -sf busybox "$tmp/rootfs/bin/$t"; done
"$bin" run --receipt "$tmp/k.r" -- /bin/true >/dev/null 2>&1 # makes a node key $tmp/k.r.key

# bundle NAME ARGS_JSON [TERMINAL]: witness and receipt outside the state directory.
bundle() {
  mkdir -p "$tmp/$1" && ln -sfn "$tmp/rootfs" "$tmp/$1/rootfs"
  cat >"$tmp/$1/config.json" <<JSON
{"ociVersion": "1.0.2",
 "process": {"terminal": ${3:-false}, "user": {"uid": 0, "gid": 0}, "args": $2,
             "env": ["PATH=/bin", "TERM=xterm"], "cwd": "/"},
 "root": {"path": "rootfs", "readonly": true},
 "annotations": {"org.metanode.docklock.seed":
                 "0202020202020202020202020202020202020202020202020202020202020202",
                 "org.metanode.docklock.key": "$tmp/k.r.key",
                 "org.metanode.docklock.witness": "$tmp/$1.w",
                 "org.metanode.docklock.receipt": "$tmp/$1.r"}}
JSON
}
replays() { # replays NAME: the witness alone gives the same run (receipt checked too)
  if "$bin" replay --witness "$tmp/$1.w" --receipt "$tmp/$1.r" --rootfs "$tmp/rootfs" \
    >"$tmp/replay.out" 2>&1; then ok; else bad "$1 replay: $(head -3 "$tmp/replay.out")"; fi
}
core() { "$bin" inspect "$1" | grep -v '^  host' ; }

# --- 1. output is streamed: the container prints, then waits for a line we send only after
# seeing that output (a runtime that wrote output at the end would never get it) ---
bundle stream '["/bin/sh", "-c", "echo first; read x; echo second $x"]'
mkfifo "$tmp/in.fifo"
(dl run -b "$tmp/stream" s1 <"$tmp/in.fifo" >"$tmp/stream.out" 2>&1; echo $? >"$tmp/stream.rc") &
exec 7>"$tmp/in.fifo"
for _ in $(seq 100); do grep -q first "$tmp/stream.out" 2>/dev/null && break; sleep 0.1; done
if grep -q first "$tmp/stream.out" && ! grep -q second "$tmp/stream.out"; then ok; else
  bad "stream: 'first' not seen while the container ran: $(cat "$tmp/stream.out")"; fi
echo go >&7
exec 7>&-
wait
same stream_rc "$tmp/stream.rc" 0
same stream_out "$tmp/stream.out" "$(printf 'first\nsecond go')"
replays stream

# --- 2. stdin piped in: read by the guest, recorded, replayed; EOF works ---
bundle cat '["/bin/sh", "-c", "cat; echo end"]'
printf 'one\ntwo\n' | dl run -b "$tmp/cat" c1 >"$tmp/cat.out" 2>&1
same stdin_out "$tmp/cat.out" "$(printf 'one\ntwo\nend')"
"$bin" inspect "$tmp/cat.w" >"$tmp/cat.txt"
if grep -q 'input   nr=1   res=8 inline\[8\]=one' "$tmp/cat.txt" &&
  grep -q 'input   nr=1   res=0' "$tmp/cat.txt"; then ok; else
  bad "stdin records: $(grep input "$tmp/cat.txt")"; fi
replays cat
"$bin" verify --receipt "$tmp/cat.r" --witness "$tmp/cat.w" >/dev/null 2>&1 && ok ||
  bad "verify of the stdin run"
# slow input: two pieces with pauses between them, each a delivery
bundle slow '["/bin/sh", "-c", "while read l; do echo got $l; done; echo end"]'
(sleep 0.3; echo a; sleep 0.3; echo b) | dl run -b "$tmp/slow" c2 >"$tmp/slow.out" 2>&1
same slow_out "$tmp/slow.out" "$(printf 'got a\ngot b\nend')"
replays slow
# empty stdin (/dev/null, what a manager gives without -i): no live input, same witness as
# a run without any stdin handling; a second run gives the same witness
bundle empty '["/bin/sh", "-c", "cat; echo end"]'
dl run -b "$tmp/empty" e1 </dev/null >"$tmp/empty.out" 2>&1
same empty_out "$tmp/empty.out" end
if "$bin" inspect "$tmp/empty.w" | grep -q input; then bad "empty stdin recorded input"; else ok; fi
cp "$tmp/empty.w" "$tmp/empty1.w"
dl run -b "$tmp/empty" e2 </dev/null >/dev/null 2>&1
cmp -s "$tmp/empty.w" "$tmp/empty1.w" && ok || bad "two runs with empty stdin differ"
replays empty

# --- 3. terminal: runc's console socket; the peer types a line into a shell ---
bundle tty '["/bin/sh"]' true
"$peer" "$tmp/console.sock" $'echo hi there; stty size; exit 3\n' \
  "$bin" --root "$root" run --console-socket "$tmp/console.sock" -b "$tmp/tty" t1 \
  >"$tmp/tty.out" 2>"$tmp/tty.err"
rc=$?
[ "$rc" -eq 3 ] && ok || bad "tty exit $rc: $(head -3 "$tmp/tty.err")"
tr -d '\r' <"$tmp/tty.out" >"$tmp/tty.txt"
grep -qx "hi there" "$tmp/tty.txt" && ok || bad "tty output: $(head -c 400 "$tmp/tty.txt")"
grep -qx '24 80' "$tmp/tty.txt" && ok || bad "tty window size: $(head -c 400 "$tmp/tty.txt")"
grep -q "echo hi there; stty" "$tmp/tty.txt" && ok || bad "tty echo of the input missing"
"$bin" inspect "$tmp/tty.w" | grep -q 'input   nr=2' && ok || bad "tty mode not recorded"
replays tty
cp "$tmp/tty.w" "$tmp/tty1.w"
"$peer" "$tmp/console.sock" $'echo hi there; stty size; exit 3\n' \
  "$bin" --root "$root" run --console-socket "$tmp/console.sock" -b "$tmp/tty" t2 \
  >/dev/null 2>&1
cmp -s "$tmp/tty.w" "$tmp/tty1.w" && ok || bad "two terminal runs with the same input differ"
# a terminal needs a console socket, and a console socket a terminal (runc's errors)
check tty_no_socket 1 dl create --bundle "$tmp/tty" t3
grep -q 'cannot allocate tty' "$tmp/err" && ok || bad "tty_no_socket message: $(cat "$tmp/err")"
check socket_no_tty 1 dl create --bundle "$tmp/cat" --console-socket "$tmp/console.sock" t4
grep -q 'cannot use console socket' "$tmp/err" && ok || bad "socket_no_tty: $(cat "$tmp/err")"
check socket_missing 1 dl create --bundle "$tmp/tty" --console-socket "$tmp/nosuch.sock" t5
check socket_missing_no_leftover 1 test -e "$root/t5"

# --- 4. exec: a process joins a running container (waiting for stdin that stays open) ---
bundle ex '["/bin/sh", "-c", "echo started; cat; echo done"]'
mkfifo "$tmp/ex.fifo"
(dl run --keep -b "$tmp/ex" x1 <"$tmp/ex.fifo" >"$tmp/ex.out" 2>&1; echo $? >"$tmp/ex.rc") &
exec 7>"$tmp/ex.fifo"
for _ in $(seq 100); do grep -q started "$tmp/ex.out" 2>/dev/null && break; sleep 0.1; done
check exec_echo 0 dl exec x1 /bin/echo hello from exec
same exec_echo_out "$tmp/out" "hello from exec"
check exec_status 7 dl exec x1 /bin/sh -c 'echo to stderr >&2; exit 7'
same exec_status_err "$tmp/err" "to stderr"
check exec_env 0 dl exec --env GREETING=hi --cwd /bin x1 /bin/sh -c 'echo $GREETING $PATH; pwd'
same exec_env_out "$tmp/out" "$(printf 'hi /bin\n/bin')"
printf '{"args": ["/bin/echo", "from", "process.json"], "env": ["PATH=/bin"], "cwd": "/"}' \
  >"$tmp/process.json"
check exec_process_file 0 dl exec --process "$tmp/process.json" --pid-file "$tmp/exec.pid" x1
same exec_process_file_out "$tmp/out" "from process.json"
check exec_pid_file 0 test -s "$tmp/exec.pid"
# exec output is streamed: a first exec prints, then waits (testing, a trapped stat each time)
# for a file in the cage's /tmp that a second exec, run while the first still runs, writes.
# (Not a fifo: opening one is a rendezvous of two tasks in the kernel at once, which the
# cage's one-task-at-a-time scheduler never gives, docs/docklock.md §3.)
(dl exec x1 /bin/sh -c 'echo one; while [ ! -s /tmp/g ]; do :; done; read x </tmp/g; echo two $x' \
  >"$tmp/ex1.out" 2>&1; echo $? >"$tmp/ex1.rc") &
for _ in $(seq 100); do grep -q one "$tmp/ex1.out" 2>/dev/null && break; sleep 0.1; done
if grep -q one "$tmp/ex1.out" && [ ! -e "$tmp/ex1.rc" ]; then ok; else
  bad "exec output not streamed: $(cat "$tmp/ex1.out")"; fi
check exec_second 0 dl exec x1 /bin/sh -c 'echo go >/tmp/g'
for _ in $(seq 100); do [ -s "$tmp/ex1.rc" ] && break; sleep 0.1; done
same exec_streamed_out "$tmp/ex1.out" "$(printf 'one\ntwo go')"
same exec_streamed_rc "$tmp/ex1.rc" 0
check exec_not_found 127 dl exec x1 /bin/nosuch
check exec_tty_refused 1 dl exec --tty x1 /bin/true
echo line >&7
exec 7>&-
wait
same exec_container_rc "$tmp/ex.rc" 0
same exec_container_out "$tmp/ex.out" "$(printf 'started\nline\ndone')"
"$bin" inspect "$tmp/ex.w" >"$tmp/ex.txt"
n=$(grep -c ' join ' "$tmp/ex.txt")
[ "$n" -eq 7 ] && ok || bad "exec: $n join records, expected 7"
replays ex
check exec_stopped 1 dl exec x1 /bin/true
grep -q 'cannot exec in a stopped container' "$tmp/err" && ok || bad "exec_stopped: $(cat "$tmp/err")"
check exec_stopped_delete 0 dl delete x1
check exec_unknown 1 dl exec nosuch /bin/true
grep -q 'container nosuch does not exist' "$tmp/err" && ok || bad "exec_unknown: $(cat "$tmp/err")"

echo "oci stdio: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
