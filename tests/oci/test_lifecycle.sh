#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The runc lifecycle of docklock as an OCI runtime, on a bundle made from Debian's
# busybox-static: create, state, start, state, kill, delete, and runc's error cases (unknown
# id, an id created twice, start of a running container, delete of a running one without
# --force, kill of a stopped one); the run's witness and receipt exist and `docklock verify`
# accepts them; delete --force of a running container; kill before start; --log-format json;
# events --stats, exec of an unknown container; hooks (state JSON on stdin, a failing
# createRuntime hook fails create, createContainer/startContainer in the container's uts and
# pid namespaces); the state's pid is the cage's pid 1 and a subreaper waiting for it sees its
# exit only with output, witness, receipt and stopped state in place (tests/oci/oci_subreaper.py);
# two runs of one bundle with one seed and key give the same receipt core.
# Usage: test_lifecycle.sh DOCKLOCK_BINARY   (as root; exits 77 otherwise)
set -uo pipefail
bin=$1
[ "$(id -u)" -eq 0 ] || { echo "skip: the cage needs root"; exit 77; }
busybox=/bin/busybox
if ! file -L "$busybox" 2>/dev/null | grep -q "statically linked"; then
  echo "FAIL: $busybox is not a static busybox: install busybox-static (scripts/setup.sh)"
  exit 1
fi
tmp=$(mktemp -d /var/tmp/docklock-oci.XXXXXX) # not /tmp: the cage has its own /tmp
root=$tmp/state
trap '"$bin" --root "$root" delete --force loop >/dev/null 2>&1; rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
expect() { # expect NAME FILE STRING
  if grep -qF -- "$3" "$2"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL $1: $2 lacks '$3'"; head -5 "$2"; fi
}
dl() { "$bin" --root "$root" "$@"; }
# create leaves its output files to the container's supervisor: never a pipe we wait on.
create() { # create ID BUNDLE
  dl create --bundle "$2" --pid-file "$tmp/$1.pid" "$1" >"$tmp/$1.stdout" 2>"$tmp/$1.stderr" \
    </dev/null
}
wait_stopped() { # wait_stopped ID: up to 20 s
  for _ in $(seq 200); do
    dl state "$1" 2>/dev/null | grep -q '"status": "stopped"' && return 0
    sleep 0.1
  done
  return 1
}

# bundle ARGS_JSON [EXTRA_ANNOTATIONS_JSON]
bundle() {
  local dir=$1 args=$2 ann=${3:-}
  mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/dev" "$dir/rootfs/tmp"
  cp "$busybox" "$dir/rootfs/bin/busybox"
  for t in sh echo cat true; do ln -sf busybox "$dir/rootfs/bin/$t"; done
  cat >"$dir/config.json" <<JSON
{"ociVersion": "1.0.2",
 "process": {"terminal": false, "user": {"uid": 0, "gid": 0}, "args": $args,
             "env": ["PATH=/bin", "TERM=xterm"], "cwd": "/", "noNewPrivileges": true,
             "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]},
 "root": {"path": "rootfs", "readonly": true},
 "hostname": "busybox",
 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs"}],
 "linux": {"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                          {"type": "uts"}, {"type": "mount"}],
           "resources": {"pids": {"limit": 64}}},
 "annotations": {"org.metanode.docklock.seed":
                 "0101010101010101010101010101010101010101010101010101010101010101"$ann}}
JSON
}

bundle "$tmp/loop" '["/bin/sh", "-c", "echo started; while :; do :; done"]'
bundle "$tmp/hello" '["/bin/sh", "-c", "echo hello from busybox; echo err >&2; exit 3"]'

# --- the lifecycle and its errors ---
check version 0 "$bin" --version
expect version_spec "$tmp/out" "spec: 1."
check features 0 dl features
expect features_json "$tmp/out" '"ociVersionMax"'
check state_unknown 1 dl state loop
expect state_unknown_msg "$tmp/err" "does not exist"
check start_unknown 1 dl start loop
check kill_unknown 1 dl kill loop KILL
check delete_unknown 1 dl delete loop
check delete_force_unknown 0 dl delete --force loop
check create 0 create loop "$tmp/loop"
check pid_file 0 test -s "$tmp/loop.pid"
check create_twice 1 dl create --bundle "$tmp/loop" loop
expect create_twice_msg "$tmp/err" "container with id exists: loop"
check state_created 0 dl state loop
expect state_created_status "$tmp/out" '"status": "created"'
expect state_created_pid "$tmp/out" "\"pid\": $(cat "$tmp/loop.pid")"
expect state_version "$tmp/out" '"ociVersion": "1.'
expect state_bundle "$tmp/out" "\"bundle\": \"$tmp/loop\""
expect state_witness_path "$tmp/out" "\"org.metanode.docklock.witness\": \"$root/loop/witness\""
check start 0 dl start loop
check state_running 0 dl state loop
expect state_running_status "$tmp/out" '"status": "running"'
check start_running 1 dl start loop
expect start_running_msg "$tmp/err" "running"
check list 0 dl list
expect list_running "$tmp/out" "running"
check list_json 0 dl list --format json
expect list_json_entry "$tmp/out" '{"id":"loop","pid":'
check events_stats 0 dl events --stats loop
expect events_stats_json "$tmp/out" '{"type":"stats","id":"loop","data":{"cpu":{"usage":{"total":'
check ps_json 0 dl ps --format json loop
cage=$(sed -n 's/.*"cagePid":\([0-9]*\).*/\1/p' "$root/loop/state.json")
cp "$tmp/out" "$tmp/ps.json"
check ps_has_cage 0 grep -q "^\[$cage" "$tmp/ps.json"
check cage_in_own_pidns 1 test "$(readlink /proc/$cage/ns/pid)" = "$(readlink /proc/self/ns/pid)"
# the state's pid and the pid file are the container's process, the cage's pid 1, as runc's
check pid_file_is_cage 0 test "$(cat "$tmp/loop.pid")" = "$cage"
check pid_is_container_init 0 test "$(awk '/^NSpid:/ {print $NF}' /proc/$cage/status)" = 1
check exec_unknown 1 dl exec nosuch /bin/true
expect exec_unknown_msg "$tmp/err" "container nosuch does not exist"
check delete_running 1 dl delete loop
expect delete_running_msg "$tmp/err" "not stopped"
check kill_bad_signal 1 dl kill loop NOSUCH
check kill 0 dl kill loop KILL
check stops 0 wait_stopped loop
check state_stopped 0 dl state loop
expect state_stopped_status "$tmp/out" '"status": "stopped"'
check kill_stopped 1 dl kill loop KILL
check events_stopped 1 dl events --stats loop
check witness_exists 0 test -s "$root/loop/witness"
check receipt_exists 0 test -s "$root/loop/receipt"
check verify 0 "$bin" verify --receipt "$root/loop/receipt" --witness "$root/loop/witness"
check inspect_killed 0 "$bin" inspect --json "$root/loop/receipt"
expect receipt_says_killed "$tmp/out" '"kind": "signaled"'
cp "$root/loop/node.key" "$tmp/node.key"
check stdout_delivered 0 grep -q started "$tmp/loop.stdout"
check delete 0 dl delete loop
check state_deleted 1 dl state loop
check dir_gone 1 test -e "$root/loop"
# (one at a time: a spinning guest holds its CPU at real-time priority)
check run_exit_status 3 dl run --bundle "$tmp/hello" hello_status

# --- delete --force of a running container; kill before start ---
check create_f 0 create loop "$tmp/loop"
check start_f 0 dl start loop
check delete_force 0 dl delete --force loop
check state_forced 1 dl state loop
check create_k 0 create loop "$tmp/loop"
check kill_created 0 dl kill loop KILL
check stops_created 0 wait_stopped loop
check start_stopped 1 dl start loop
check delete_k 0 dl delete loop

# --- a record left by a create that died early (no supervisor, pid 0): kill refuses, delete
# removes it (and must not signal pid 0, our own process group) ---
mkdir -p "$root/stale"
printf '{"id":"stale","bundle":"%s","pid":0,"pidStart":0,"status":"creating","exitStatus":0,"witness":"","receipt":"","key":"","annotations":{}}' \
  "$tmp/loop" >"$root/stale/state.json"
check stale_state 0 dl state stale
expect stale_status "$tmp/out" '"status": "creating"'
check stale_kill 1 dl kill stale KILL
check stale_delete 0 dl delete stale
check stale_gone 1 test -e "$root/stale"

# --- errors in the log, as JSON lines ---
check log_json 1 "$bin" --root "$root" --log "$tmp/log.json" --log-format json state nosuch
expect log_json_line "$tmp/log.json" '"level":"error","msg":"container nosuch does not exist"'
check log_notes 0 "$bin" --root "$root" --log "$tmp/log.txt" create --bundle "$tmp/hello" lg
expect log_ignored "$tmp/log.txt" 'level=warning msg="ignored: mounts on /proc'
expect log_ignored_rlimits "$tmp/log.txt" 'ignored: process.rlimits'
check log_notes_delete 0 dl delete lg
mkdir -p "$tmp/noprog" && cp -r "$tmp/hello/rootfs" "$tmp/noprog/"
sed 's|"args": \[[^]]*\]|"args": ["nosuch"]|' "$tmp/hello/config.json" >"$tmp/noprog/config.json"
check no_program 1 dl create --bundle "$tmp/noprog" np
expect no_program_msg "$tmp/err" "program nosuch not found"
check no_program_no_leftover 1 test -e "$root/np"
check bad_bundle 1 dl create --bundle "$tmp/nonexistent" x
check bad_id 1 dl create --bundle "$tmp/loop" "a/b"
sed 's/"terminal": false/"terminal": true/' "$tmp/loop/config.json" >"$tmp/tty.json"
mkdir -p "$tmp/tty" && cp "$tmp/tty.json" "$tmp/tty/config.json" && cp -r "$tmp/loop/rootfs" "$tmp/tty/"
check terminal_refused 1 dl create --bundle "$tmp/tty" tty
expect terminal_refused_msg "$tmp/err" "cannot allocate tty"
check terminal_no_leftover 1 test -e "$root/tty"

# --- hooks: run with the state JSON on stdin; a failing create-time hook fails create ---
hook() { # hook FILE: a hook that saves its stdin
  printf '{"path": "/bin/sh", "args": ["sh", "-c", "cat > %s"], "timeout": 10}' "$1"
}
mkdir -p "$tmp/hk" && cp -r "$tmp/hello/rootfs" "$tmp/hk/"
hooks="\"hooks\": {\"prestart\": [$(hook "$tmp/h.prestart")],"
hooks+=" \"createRuntime\": [$(hook "$tmp/h.createRuntime")],"
# createContainer and startContainer run in the container's namespaces: they print the
# hostname they see (the bundle's), their pid (small: the cage's pid namespace) and stdin
nshook() { # nshook TAG: path /bin/busybox (static: runs in the cage's mount namespace too)
  printf '{"path": "/bin/busybox", "args": ["busybox", "sh", "-c", "echo %s-host=$(busybox hostname) %s-pid=$$; busybox cat"]}' "$1" "$1"
}
hooks+=" \"createContainer\": [$(nshook cc)], \"startContainer\": [$(nshook sc)],"
hooks+=" \"poststart\": [$(hook "$tmp/h.poststart")], \"poststop\": [$(hook "$tmp/h.poststop")]},"
sed "s|\"hostname\": \"busybox\",|\"hostname\": \"busybox\", $hooks|" "$tmp/hello/config.json" \
  >"$tmp/hk/config.json"
check hk_create 0 create hk "$tmp/hk"
expect hk_prestart "$tmp/h.prestart" '"id": "hk"'
expect hk_create_runtime "$tmp/h.createRuntime" '"status": "creating"'
expect hk_create_container_uts "$tmp/hk.stdout" "cc-host=busybox"
check hk_create_container_pidns 0 grep -qE "cc-pid=[0-9]( |$)" "$tmp/hk.stdout"
expect hk_create_container_stdin "$tmp/hk.stdout" '"id": "hk"'
check hk_start 0 dl start hk
cp "$tmp/out" "$tmp/hk.start"
expect hk_start_container_uts "$tmp/hk.start" "sc-host=busybox"
check hk_start_container_pidns 0 grep -qE "sc-pid=[0-9]( |$)" "$tmp/hk.start"
expect hk_start_container_stdin "$tmp/hk.start" '"status": "created"'
expect hk_poststart "$tmp/h.poststart" '"status": "running"'
check hk_stops 0 wait_stopped hk
check hk_delete 0 dl delete hk
expect hk_poststop "$tmp/h.poststop" '"status": "stopped"'
mkdir -p "$tmp/hkbad" && cp -r "$tmp/hello/rootfs" "$tmp/hkbad/"
sed 's|"hostname": "busybox",|"hostname": "busybox", "hooks": {"createRuntime": [{"path": "/bin/false"}]},|' \
  "$tmp/hello/config.json" >"$tmp/hkbad/config.json"
check hk_failing 1 create hkbad "$tmp/hkbad"
expect hk_failing_msg "$tmp/hkbad.stderr" "createRuntime hooks failed"
check hk_failing_no_leftover 1 test -e "$root/hkbad"

# --- a manager that waits for the pid file's pid (a subreaper, as conmon and containerd's
# shim): it sees the program's exit status only once the output, the witness, the receipt and
# the stopped state are all there; a supervisor that dies does not leave the process held ---
bundle "$tmp/many" '["/bin/sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done; exit 7"]'
check subreaper_exit 0 /usr/bin/python3 "$(dirname "$0")/oci_subreaper.py" "$bin" "$root" exit \
  many "$tmp/many" "$tmp/many.out"
check subreaper_exit_delete 0 dl delete many
check subreaper_sup_dies 0 /usr/bin/python3 "$(dirname "$0")/oci_subreaper.py" "$bin" "$root" \
  supervisor-dies loop "$tmp/loop" "$tmp/sd.out"
check subreaper_sup_dies_delete 0 dl delete --force loop

# --- the same bundle and seed twice: the same receipt core (OCI run, kept for the check) ---
for i in 1 2; do
  ann=", \"org.metanode.docklock.key\": \"$tmp/node.key\""
  ann+=", \"org.metanode.docklock.witness\": \"$tmp/w$i\""
  ann+=", \"org.metanode.docklock.receipt\": \"$tmp/r$i\""
  bundle "$tmp/hello$i" '["/bin/sh", "-c", "echo hello from busybox; echo err >&2; exit 3"]' "$ann"
  check run$i 3 dl run --bundle "$tmp/hello$i" "hello$i"
  expect run${i}_stdout "$tmp/out" "hello from busybox"
  expect run${i}_stderr "$tmp/err" "err"
  check run${i}_removed 1 test -e "$root/hello$i"
  check verify$i 0 "$bin" verify --receipt "$tmp/r$i" --witness "$tmp/w$i"
  "$bin" inspect --json "$tmp/r$i" | grep '"core_hash"' >"$tmp/core$i"
done
check same_core 0 cmp "$tmp/core1" "$tmp/core2"
check same_witness 0 cmp "$tmp/w1" "$tmp/w2"
check core_not_empty 0 test -s "$tmp/core1"

echo "oci lifecycle: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
