#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# config.json settings docklock honours inside the cage, on busybox-static bundles: bind
# mounts (read-only file, writable volume), tmpfs, devpts, mqueue, sysfs; process.cwd (made
# when missing), process.user with additionalGids, hostname (also uname); maskedPaths and
# readonlyPaths; the bundle's seccomp profile on top of the cage's filter (EPERM seen, the
# cage's clock still virtual); what the witness records (settings, mount identities, volume
# outputs) and that different mounted content gives a different receipt core while the same
# gives the same; relaxed-mode taints in the witness and the receipt; cage set-up failures
# reported by create.
# Usage: test_config.sh DOCKLOCK_BINARY   (as root; exits 77 otherwise)
set -uo pipefail
bin=$1
[ "$(id -u)" -eq 0 ] || { echo "skip: the cage needs root"; exit 77; }
busybox=/bin/busybox
if ! file -L "$busybox" 2>/dev/null | grep -q "statically linked"; then
  echo "FAIL: $busybox is not a static busybox: install busybox-static (scripts/setup.sh)"
  exit 1
fi
tmp=$(mktemp -d /var/tmp/docklock-cfg.XXXXXX)
root=$tmp/state
trap 'for c in cfg sc ro1 ro2 ro3 tnt; do "$bin" --root "$root" delete --force $c >/dev/null 2>&1; done; rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
expect() { # expect NAME FILE STRING
  if grep -qF -- "$3" "$2"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL $1: $2 lacks '$3'"; head -20 "$2"; fi
}
refute() { # refute NAME FILE STRING
  if grep -qF -- "$3" "$2"; then failed=$((failed + 1)); echo "FAIL $1: $2 has '$3'"
  else passed=$((passed + 1)); fi
}
dl() { "$bin" --root "$root" "$@"; }
seed=0202020202020202020202020202020202020202020202020202020202020202

# run_bundle ID DIR: OCI run (create, start, wait, delete), output in $tmp/ID.out/.err
run_bundle() {
  dl run --bundle "$2" "$1" >"$tmp/$1.out" 2>"$tmp/$1.err" </dev/null
  echo $? >"$tmp/$1.rc"
}

# bundle DIR ARGS_JSON EXTRA_TOP_LEVEL_JSON (mounts, linux, ...) [ANNOTATIONS_JSON_TAIL]
bundle() {
  local dir=$1 args=$2 extra=$3 ann=${4:-}
  mkdir -p "$dir/rootfs/bin" "$dir/rootfs/etc"
  cp "$busybox" "$dir/rootfs/bin/busybox"
  ln -sf busybox "$dir/rootfs/bin/sh"
  cat >"$dir/config.json" <<JSON
{"ociVersion": "1.0.2",
 "process": $args,
 "root": {"path": "rootfs", "readonly": true},
 $extra
 "annotations": {"org.metanode.docklock.seed": "$seed",
                 "org.metanode.docklock.witness": "$dir/witness",
                 "org.metanode.docklock.receipt": "$dir/receipt"$ann}}
JSON
}
root_user='{"uid": 0, "gid": 0}'
proc() { # proc SCRIPT [CWD] [USER_JSON]
  local user=${3:-$root_user}
  printf '{"args": ["/bin/sh", "-c", "%s"], "env": ["PATH=/bin"], "cwd": "%s", "user": %s}' \
    "$1" "${2:-/}" "$user"
}

# --- mounts, cwd, user, hostname, masked and read-only paths ---
printf '127.0.0.1 one.example\n' >"$tmp/hosts"
mkdir -p "$tmp/vol" && printf 'volume content\n' >"$tmp/vol/a.txt" && chmod 0777 "$tmp/vol"
# the checks run as a script file in the root (no JSON quoting)
script='busybox sh /checks'
read -r -d '' checks <<'SH'
mi() { busybox grep -q " $1 .* - $2 " /proc/self/mountinfo; }
busybox cat /etc/hosts; echo cwd=$(busybox pwd)
echo uid=$(busybox id -u) gid=$(busybox id -g) groups=$(busybox id -G)
echo host=$(busybox hostname) uname=$(busybox uname -n)
busybox cat /data/a.txt; echo new >/data/b.txt && echo volume-written
echo x >/etc/hosts || echo hosts-read-only
mi /dev/shm tmpfs && echo shm-mounted; mi /dev/mqueue mqueue && echo mqueue-mounted
mi /dev/pts devpts && echo pts-mounted; busybox test -d /sys/kernel && echo sysfs-mounted
busybox touch /sys/x 2>/dev/null || echo sysfs-read-only; mi /run tmpfs && echo run-tmpfs
mi /proc/sys proc && echo proc-sys-rebound
echo kallsyms=$(busybox wc -c </proc/kallsyms) driver=$(busybox ls /proc/driver | busybox wc -l)
SH
mounts='"mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
  {"destination": "/dev", "type": "tmpfs", "source": "tmpfs"},
  {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
  {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
  {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
  {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
  {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro"]},
  {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["mode=755"]},
  {"destination": "/etc/hosts", "type": "bind", "source": "'"$tmp"'/hosts", "options": ["rbind", "ro"]},
  {"destination": "/data", "type": "none", "source": "'"$tmp"'/vol", "options": ["bind", "rw"]}],
 "hostname": "cfgbox",
 "linux": {"maskedPaths": ["/proc/kallsyms", "/proc/driver", "/proc/nosuch"], "readonlyPaths": ["/proc/sys"]},'
bundle "$tmp/cfg" "$(proc "$script" /work '{"uid": 1000, "gid": 1000, "additionalGids": [2000]}')" "$mounts"
printf '%s\n' "$checks" >"$tmp/cfg/rootfs/checks"
check cfg_run 0 run_bundle cfg "$tmp/cfg"
out=$tmp/cfg.out
expect cfg_hosts "$out" "127.0.0.1 one.example"
expect cfg_cwd "$out" "cwd=/work"
check cfg_cwd_made 0 test -d "$tmp/cfg/rootfs/work"
expect cfg_user "$out" "uid=1000 gid=1000 groups=1000 2000"
expect cfg_hostname "$out" "host=cfgbox uname=cfgbox"
expect cfg_volume_read "$out" "volume content"
expect cfg_volume_written "$out" "volume-written"
check cfg_volume_on_host 0 test -s "$tmp/vol/b.txt"
expect cfg_ro_bind "$out" "hosts-read-only"
check cfg_hosts_intact 0 grep -q one.example "$tmp/hosts"
expect cfg_shm "$out" "shm-mounted"
expect cfg_mqueue "$out" "mqueue-mounted"
expect cfg_pts "$out" "pts-mounted"
expect cfg_sysfs "$out" "sysfs-mounted"
expect cfg_sysfs_ro "$out" "sysfs-read-only"
expect cfg_run_tmpfs "$out" "run-tmpfs"
expect cfg_masked "$out" "kallsyms=0 driver=0"
expect cfg_readonly "$out" "proc-sys-rebound"
check cfg_verify 0 "$bin" verify --receipt "$tmp/cfg/receipt" --witness "$tmp/cfg/witness"
check cfg_inspect 0 "$bin" inspect "$tmp/cfg/witness"
cp "$tmp/out" "$tmp/cfg.inspect"
expect cfg_w_config "$tmp/cfg.inspect" "cwd=/work\\x0auser=1000:1000:2000\\x0ahostname=cfgbox"
expect cfg_w_mount "$tmp/cfg.inspect" "mount=/dev/shm tmpfs"
check cfg_inspect_json 0 "$bin" inspect --json "$tmp/cfg/witness"
expect cfg_w_masked "$tmp/out" 'masked=/proc/kallsyms\nmasked=/proc/driver\nmasked=/proc/nosuch\nreadonly=/proc/sys\n' 
expect cfg_w_input_hosts "$tmp/cfg.inspect" "input   nr=3   res=0 /etc/hosts"
expect cfg_w_input_vol "$tmp/cfg.inspect" "input   nr=3   res=0 /data"
expect cfg_w_output_vol "$tmp/cfg.inspect" "output  nr=3   res=0 /data"
refute cfg_w_no_source "$tmp/cfg.inspect" "$tmp/vol"

# --- the mounted content is part of the receipt: same content, same core; other, other ---
ro_script='busybox cat /etc/hosts'
ro_mounts='"mounts": [{"destination": "/etc/hosts", "type": "bind", "source": "'"$tmp"'/hosts2", "options": ["bind", "ro"]}],'
for i in 1 2 3; do
  [ $i -eq 3 ] && printf '127.0.0.1 two.example\n' >"$tmp/hosts2" || printf '127.0.0.1 one.example\n' >"$tmp/hosts2"
  bundle "$tmp/ro$i" "$(proc "$ro_script")" "$ro_mounts" \
    ", \"org.metanode.docklock.key\": \"$tmp/node.key\""
  [ -e "$tmp/node.key" ] || "$bin" run --receipt "$tmp/k.receipt" -- /bin/true >/dev/null 2>&1
  [ -e "$tmp/node.key" ] || cp "$tmp/k.receipt.key" "$tmp/node.key"
  check ro${i}_run 0 run_bundle ro$i "$tmp/ro$i"
  "$bin" inspect --json "$tmp/ro$i/receipt" | grep '"core_hash"' >"$tmp/ro$i.core"
done
check ro_core_not_empty 0 test -s "$tmp/ro1.core"
check ro_same_content_same_core 0 cmp "$tmp/ro1.core" "$tmp/ro2.core"
check ro_other_content_other_core 1 cmp -s "$tmp/ro1.core" "$tmp/ro3.core"
expect ro3_sees_it "$tmp/ro3.out" "two.example"

# --- the bundle's seccomp profile on top of the cage's filter ---
sc_script='busybox mkdir /tmp/x || echo mkdir-refused; busybox date -u +%Y-%m; busybox head -c 4 /dev/urandom | busybox od -An -tx1'
sc='"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}},'
bundle "$tmp/sc" "$(proc "$sc_script")" "$sc"
check sc_run 0 run_bundle sc "$tmp/sc"
expect sc_eperm "$tmp/sc.err" "Operation not permitted"
expect sc_refused "$tmp/sc.out" "mkdir-refused"
expect sc_cage_clock "$tmp/sc.out" "2000-01"
check sc_inspect 0 "$bin" inspect "$tmp/sc/witness"
expect sc_w_profile "$tmp/out" "seccomp="
bundle "$tmp/scn" "$(proc true)" '"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]}},'
check sc_notify_refused 1 dl create --bundle "$tmp/scn" scn
expect sc_notify_msg "$tmp/err" "SCMP_ACT_NOTIFY is refused"

# --- relaxed mode: what is accepted but not honoured is in the witness and the receipt ---
mkdir -p "$tmp/special" && mkfifo "$tmp/special/fifo"
tnt='"mounts": [{"destination": "/special", "type": "bind", "source": "'"$tmp"'/special", "options": ["bind", "ro"]}],
 "linux": {"namespaces": [{"type": "pid"}, {"type": "network", "path": "/proc/1/ns/net"}]},'
bundle "$tmp/tnt" "$(proc 'echo tainted-run')" "$tnt"
check tnt_strict_refused 1 dl create --bundle "$tmp/tnt" tnt
expect tnt_strict_msg "$tmp/err" "refused"
bundle "$tmp/tnt" "$(proc 'echo tainted-run')" "$tnt" ', "org.metanode.docklock.mode": "relaxed"'
check tnt_run 0 run_bundle tnt "$tmp/tnt"
expect tnt_output "$tmp/tnt.out" "tainted-run"
check tnt_inspect 0 "$bin" inspect "$tmp/tnt/witness"
expect tnt_w_ns "$tmp/out" "taint   nr=2   res=0 joining an existing namespace"
expect tnt_w_mount "$tmp/out" "a bind mount too large to identify"
# the relaxed bit (2) is set; bit 1 (RDRAND on this CPU) may be too
expect tnt_w_trailer "$tmp/out" "taints 0x"
check tnt_w_relaxed_bit 0 test $(( $(sed -n 's/.*taints 0x\([0-9a-f]*\).*/0x\1/p' "$tmp/out") & 2 )) -eq 2
check tnt_receipt 0 "$bin" inspect --json "$tmp/tnt/receipt"
check tnt_r_relaxed_bit 0 test $(( $(sed -n 's/.*"taints": \([0-9]*\).*/\1/p' "$tmp/out") & 2 )) -eq 2
check tnt_verify 0 "$bin" verify --receipt "$tmp/tnt/receipt" --witness "$tmp/tnt/witness"
expect tnt_verify_taints "$tmp/out" "relaxed"
expect tnt_verify_records "$tmp/out" "taint: joining an existing namespace"
# strict runs carry no relaxed taint
check ro1_receipt 0 "$bin" inspect --json "$tmp/ro1/receipt"
check ro1_no_relaxed 0 test $(( $(sed -n 's/.*"taints": \([0-9]*\).*/\1/p' "$tmp/out") & 2 )) -eq 0

# --- cage set-up failures are create's, and leave nothing behind ---
bad='"mounts": [{"destination": "/bin/busybox/x", "type": "tmpfs", "source": "tmpfs"}],'
bundle "$tmp/bad" "$(proc true)" "$bad"
check bad_mount_create 1 dl create --bundle "$tmp/bad" bad
expect bad_mount_msg "$tmp/err" "/bin/busybox"
check bad_mount_no_leftover 1 test -e "$root/bad"
bundle "$tmp/nosrc" "$(proc true)" '"mounts": [{"destination": "/x", "type": "bind", "source": "/nonexistent/src"}],'
check no_source_create 1 dl create --bundle "$tmp/nosrc" nosrc
expect no_source_msg "$tmp/err" "does not exist"
bundle "$tmp/badcwd" "$(proc true /bin/busybox/sub)" ""
check bad_cwd_create 1 dl create --bundle "$tmp/badcwd" badcwd
expect bad_cwd_msg "$tmp/err" "cwd"

echo "oci config: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
