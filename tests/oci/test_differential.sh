#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Differential validation of docklock against runc on this machine. The same scenarios run
# against both runtimes on the same busybox-static bundles (runc's default spec, edited with
# jq); each step leaves one transcript line (exit: ok/err, state fields, hook order and the
# status each hook read on its stdin, the program's output). The two transcripts must be equal
# line by line, except for the differences listed in DELIBERATE below, each with its reason.
# The scenarios follow the kinds of case the OCI runtime-tools validation suite checks (not
# packaged in Debian): state JSON at each lifecycle step, lifecycle order and its errors
# (unknown id, duplicate create, start of a running container, delete of a running one without
# --force, kill of a stopped one), hooks (order, stdin state, failures), pid file, process
# settings (args, env, cwd, user, hostname), read-only root, mounts, masked paths, exit status,
# and bad config.json fields.
# Usage: test_differential.sh DOCKLOCK_BINARY   (as root; exits 77 otherwise)
set -uo pipefail
docklock=$1
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
for tool in runc jq; do
  command -v $tool >/dev/null || { echo "FAIL: $tool missing: run scripts/setup.sh"; exit 1; }
done
busybox=/bin/busybox
file -L "$busybox" 2>/dev/null | grep -q "statically linked" ||
  { echo "FAIL: $busybox is not a static busybox: install busybox-static"; exit 1; }
runc=$(command -v runc)
tmp=$(mktemp -d /var/tmp/docklock-diff.XXXXXX)
cleanup() {
  for r in runc docklock; do
    for id in $(ls "$tmp/$r-state" 2>/dev/null); do
      "${!r}" --root "$tmp/$r-state" delete --force "$id" >/dev/null 2>&1
    done
  done
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

# Differences that are deliberate (determinism, or runc departing from the spec): step name,
# then the reason. A listed step may differ; every other step must be equal.
sig="the cage gives its pid 1 an ordinary process's fate for a signal it has no handler for (a crash's SIGSEGV ends the run instead of looping; TERM stops a plain shell), where the kernel drops it for a namespace's init under runc"
hk="runc 1.1 runs the poststart hooks in create (told status created), before the program could start, and startContainer in its init after start has returned; docklock keeps the spec's order: startContainer before the program is released, poststart after (told running)"
declare -A DELIBERATE=(
  [state_after_term]=$sig [kill_kill]="$sig (so the container is stopped already)"
  [hook_order]=$hk [hf_poststop_ran]=$hk [hf_poststart_ran]=$hk
  [hf_poststart_create]="$hk; a failing poststart hook therefore fails runc's create, where the spec (and docklock) only warn"
  [hf_poststart_start]="runc's create failed (above)" [hf_poststart_state]="runc's create failed (above)"
  [hf_poststart_delete]="runc's create failed (above)"
  [hf_startContainer_start]="$hk; runc's start has returned success when the hook fails, docklock's start reports the failure as the spec asks"
  [hf_startContainer_ran]="$hk"
)

# ---------------------------------------------------------------------------------------
# bundle DIR ARGS_JSON [JQ_FILTER]: busybox root, runc's default spec, terminal off,
# read-only root, an annotation, a writable volume at /hooks ($tmp/hooks-RUNTIME) for hooks.
bundle() {
  local dir=$1 args=$2 filter=${3:-.}
  rm -rf "$dir" && mkdir -p "$dir/rootfs/bin" "$dir/rootfs/hooks"
  cp "$busybox" "$dir/rootfs/bin/busybox" && ln -s busybox "$dir/rootfs/bin/sh"
  "$runc" spec --bundle "$dir" || return 1
  jq --argjson args "$args" --arg hooks "$hookdir" '
    .process.terminal = false | .process.args = $args | .root.readonly = true |
    .process.env += ["FOO=bar"] |
    .mounts += [{"destination": "/hooks", "type": "bind", "source": $hooks,
                 "options": ["rbind", "rw"]}] |
    .annotations = {"test.key": "v"} | '"$filter" "$dir/config.json" >"$dir/c.json" &&
    mv "$dir/c.json" "$dir/config.json"
}

rt() { "$RT" --root "$ROOT" "$@"; }
say() { echo "$*" >>"$T"; }
# step NAME CMD...: one line with ok/err
step() {
  local name=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  if [ $? -eq 0 ]; then say "$name exit=ok"; else say "$name exit=err"; fi
}
# state_step NAME ID [BUNDLE]: exit and the state's fields
state_step() {
  local name=$1 id=$2 b=${3:-}
  if ! rt state "$id" >"$tmp/st.json" 2>"$tmp/err"; then say "$name exit=err"; return; fi
  say "$name exit=ok $(jq -c --arg id "$id" --arg b "$b" '{
      status, id_ok: (.id == $id), bundle_ok: (.bundle == $b),
      version1: (.ociVersion | startswith("1.")),
      pid: (if (.pid // 0) > 0 then "set" else "none" end),
      ann: .annotations["test.key"]}' "$tmp/st.json")"
}
wait_stopped() { # wait_stopped ID: up to 20 s
  for _ in $(seq 200); do
    [ "$(rt state "$1" 2>/dev/null | jq -r .status)" = stopped ] && return 0
    sleep 0.1
  done
  return 1
}
# create leaves its output files to the container: never a pipe we wait on
create() { rt create --bundle "$2" --pid-file "$tmp/$1.pid" "$1" >"$tmp/$1.stdout" 2>"$tmp/$1.stderr" </dev/null; }

# A hook that logs "KIND STATUS" (the status it read on stdin) to the shared log: /hooks/log
# inside the container's mount namespace, $hookdir/log in the runtime's.
hook() { # hook KIND [FAIL]
  local script="s=\$(busybox sed -n 's/.*\"status\": *\"\\([a-z]*\\)\".*/\\1/p'); f=/hooks/log; [ -d /hooks ] || f=$hookdir/log; echo \"$1 \$s\" >>\$f"
  [ -n "${2:-}" ] && script+="; exit 1"
  jq -n --arg s "$script" '{path: "/bin/busybox", args: ["busybox", "sh", "-c", $s]}'
}
all_hooks() { # jq filter adding one logging hook of each kind (FAIL_KIND fails)
  local f='.hooks = {}' k
  for k in prestart createRuntime createContainer startContainer poststart poststop; do
    f+=" | .hooks.$k = [$(hook $k $([ "$k" = "${1:-}" ] && echo fail))]"
  done
  echo "$f"
}

spin='["/bin/sh", "-c", "while :; do :; done"]'

scenarios() {
  local b=$tmp/$R-b
  # --- unknown ids and bad creates ---
  step state_unknown rt state nosuch
  step start_unknown rt start nosuch
  step kill_unknown rt kill nosuch KILL
  step delete_unknown rt delete nosuch
  bundle "$b/spin" "$spin"
  step create_bad_id rt create --bundle "$b/spin" "a/b"
  step create_no_bundle rt create --bundle "$b/nonexistent" nb
  step create_no_bundle_leftover rt state nb
  mkdir -p "$b/badjson" && cp -r "$b/spin/rootfs" "$b/badjson/" && echo '{"ociVersion":' >"$b/badjson/config.json"
  step create_bad_json rt create --bundle "$b/badjson" bj
  step create_bad_json_leftover rt state bj
  bundle "$b/noproc" "$spin" 'del(.process)'
  step create_no_process create np "$b/noproc"
  step create_no_process_leftover rt state np
  bundle "$b/noroot" "$spin" '.root.path = "nosuch"'
  step create_no_root create nr "$b/noroot"
  step create_no_root_leftover rt state nr
  bundle "$b/noargs" "[]"
  step create_empty_args create na "$b/noargs"
  step create_empty_args_leftover rt state na
  bundle "$b/noprog" '["/nosuch"]'
  step create_no_program create npg "$b/noprog"
  step create_no_program_leftover rt state npg
  rt delete --force npg >/dev/null 2>&1

  # --- the lifecycle of a container that runs until killed ---
  step create create c1 "$b/spin"
  state_step state_created c1 "$b/spin"
  step pidfile_is_state_pid test "$(cat "$tmp/c1.pid" 2>/dev/null)" = "$(rt state c1 | jq .pid)"
  step pid_in_container_pidns test "$(readlink "/proc/$(cat "$tmp/c1.pid")/ns/pid")" != "$(readlink /proc/self/ns/pid)"
  # the container's init: pid 1 in its own pid namespace (the last NSpid field)
  step pid_is_container_init test "$(awk '/^NSpid:/ {print $NF}' "/proc/$(cat "$tmp/c1.pid")/status" 2>/dev/null)" = 1
  step create_duplicate rt create --bundle "$b/spin" c1
  step start rt start c1
  state_step state_running c1 "$b/spin"
  step start_running rt start c1
  step delete_running rt delete c1
  step kill_term rt kill c1 TERM
  sleep 0.2
  state_step state_after_term c1 "$b/spin"
  step kill_kill rt kill c1 KILL
  step stops wait_stopped c1
  state_step state_stopped c1 "$b/spin"
  step kill_stopped rt kill c1 KILL
  step start_stopped rt start c1
  step delete_stopped rt delete c1
  step state_deleted rt state c1

  # --- delete --force of a running one; kill and delete of a created one ---
  step create_f create c2 "$b/spin"
  step start_f rt start c2
  step delete_force rt delete --force c2
  step state_forced rt state c2
  step create_k create c3 "$b/spin"
  step kill_created rt kill c3 KILL
  step stops_created wait_stopped c3
  state_step state_killed_created c3 "$b/spin"
  step delete_killed_created rt delete c3
  step create_d create c4 "$b/spin"
  step delete_created rt delete c4
  step state_deleted_created rt state c4

  # --- run: exit status and output; process settings; read-only root; mounts; masks ---
  bundle "$b/exit3" '["/bin/sh", "-c", "echo out; echo err >&2; exit 3"]'
  rt run --bundle "$b/exit3" r1 >"$tmp/r1.out" 2>"$tmp/r1.err" </dev/null
  say "run_exit status=$?"
  say "run_stdout $(cat "$tmp/r1.out")"
  say "run_stderr $(grep -x err "$tmp/r1.err")"
  cat >"$tmp/settings.sh" <<'SH'
echo cwd=$(busybox pwd) uid=$(busybox id -u) gid=$(busybox id -g) groups=$(busybox id -G)
echo host=$(busybox hostname) foo=$FOO args=$0,$1
echo x >/x 2>/dev/null && echo root-writable || echo root-read-only
echo x >/tmp/x 2>/dev/null && echo tmp-writable || echo tmp-read-only
echo x >/hooks/x 2>/dev/null && echo volume-writable || echo volume-read-only
echo kcore=$(busybox wc -c </proc/kcore 2>/dev/null) keys=$(busybox wc -c </proc/keys 2>/dev/null)
echo x >/proc/sys/kernel/hostname 2>/dev/null && echo proc-sys-writable || echo proc-sys-read-only
busybox test -d /sys/kernel && echo sysfs || echo no-sysfs
busybox test -d /dev/pts && echo pts || echo no-pts
busybox test -d /dev/mqueue && echo mqueue || echo no-mqueue
SH
  bundle "$b/settings" '["/bin/sh", "/hooks/settings.sh", "arg1"]' \
    '.process.cwd = "/work" | .process.user = {"uid": 1000, "gid": 1000, "additionalGids": [2000]} | .hostname = "diffbox" |
     .mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777"]}]'
  cp "$tmp/settings.sh" "$hookdir/settings.sh" && chmod 0777 "$hookdir"
  rt run --bundle "$b/settings" r2 >"$tmp/r2.out" 2>"$tmp/r2.err" </dev/null
  say "settings_exit status=$?"
  while IFS= read -r line; do say "settings_out $line"; done <"$tmp/r2.out"

  # --- hooks: order and the status each one read on stdin ---
  bundle "$b/hooks" '["/bin/sh", "-c", "echo ran"]' "$(all_hooks)"
  : >"$hookdir/log" && chmod 0666 "$hookdir/log"
  step hk_create create h1 "$b/hooks"
  step hk_start rt start h1
  step hk_stops wait_stopped h1
  step hk_delete rt delete h1
  while IFS= read -r line; do say "hook_order $line"; done <"$hookdir/log"
  local k
  for k in prestart createRuntime createContainer startContainer poststart poststop; do
    bundle "$b/hf-$k" '["/bin/sh", "-c", "echo ran"]' "$(all_hooks $k)"
    : >"$hookdir/log"
    step hf_${k}_create create hf "$b/hf-$k"
    cp "$tmp/hf.stderr" "$tmp/hf-$k.create.err"
    step hf_${k}_start rt start hf
    wait_stopped hf >/dev/null 2>&1
    state_step hf_${k}_state hf "$b/hf-$k"
    step hf_${k}_delete rt delete hf
    step hf_${k}_gone rt state hf
    rt delete --force hf >/dev/null 2>&1
    say "hf_${k}_ran $(tr '\n' ',' <"$hookdir/log")"
  done
}

for r in runc docklock; do
  RT=${!r} ROOT=$tmp/$r-state T=$tmp/$r.transcript hookdir=$tmp/hooks-$r R=$r
  mkdir -p "$ROOT" "$hookdir" && : >"$T"
  scenarios
done

# ---------------------------------------------------------------------------------------
passed=0 failed=0 deliberate=0
if [ "$(wc -l <"$tmp/runc.transcript")" -ne "$(wc -l <"$tmp/docklock.transcript")" ]; then
  echo "FAIL: transcripts differ in length"; failed=$((failed + 1))
fi
while IFS=$'\t' read -r a b; do
  name=${a%% *}
  if [ "$a" = "$b" ]; then passed=$((passed + 1)); continue; fi
  if [ -n "${DELIBERATE[$name]:-}" ] && [ "${b%% *}" = "$name" ]; then
    deliberate=$((deliberate + 1))
    echo "deliberate difference $name: runc '${a#* }', docklock '${b#* }': ${DELIBERATE[$name]}"
  else
    failed=$((failed + 1))
    echo "FAIL $name: runc '${a#* }', docklock '${b#* }'"
  fi
done < <(paste "$tmp/runc.transcript" "$tmp/docklock.transcript")
echo "differential: $passed equal, $deliberate deliberate differences, $failed failed"
[ "$failed" -eq 0 ]
