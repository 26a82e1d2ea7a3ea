#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A container manager as conmon and containerd's runc shim are, for oci.lifecycle: a child
# subreaper that runs `docklock create --pid-file F`, `start`, then waits for the pid in F
# only (its child after create has returned) and takes that exit as the container's end.
# Modes:
#   exit ID BUNDLE OUT: the exit status must be the program's (7), and at that moment the
#     state must say stopped, the receipt and witness exist, and OUT hold all the output.
#   supervisor-dies ID BUNDLE OUT: SIGKILL the supervisor (state.json's "pid") of a running
#     container; the container's process must then end too (within 10 s), not be held.
# Prints one line per failed check, "ok" when all hold; exit 0 only then.
# Usage: oci_subreaper.py DOCKLOCK ROOT MODE ID BUNDLE OUT
import ctypes
import json
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main():
    dl, root, mode, cid, bundle, out = sys.argv[1:7]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("prctl PR_SET_CHILD_SUBREAPER failed")
        return 1
    pid_file = out + ".pid"
    with open(out, "wb") as o, open(out + ".err", "wb") as e:
        subprocess.run([dl, "--root", root, "create", "--bundle", bundle, "--pid-file", pid_file,
                        cid], stdin=subprocess.DEVNULL, stdout=o, stderr=e, check=True)
    pid = int(open(pid_file).read())
    subprocess.run([dl, "--root", root, "start", cid], check=True)
    bad = []
    if mode == "supervisor-dies":
        time.sleep(0.3)
        sup = json.load(open(os.path.join(root, cid, "state.json")))["pid"]
        if sup == pid:
            bad.append("the state's pid is the supervisor's")
        os.kill(sup, signal.SIGKILL)
        deadline = time.time() + 10
        while time.time() < deadline:
            got, status = os.waitpid(pid, os.WNOHANG)
            if got == pid:
                break
            time.sleep(0.05)
        else:
            bad.append("the container's process outlived its supervisor by 10 s")
    else:
        got, status = os.waitpid(pid, 0)  # what the managers wait for
        # at once, before anything else can finish
        st = subprocess.run([dl, "--root", root, "state", cid], capture_output=True, text=True)
        data = open(out, "rb").read()
        receipt = os.path.join(root, cid, "receipt")
        witness = os.path.join(root, cid, "witness")
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 7:
            bad.append("exit status %#x, not exit 7" % status)
        if '"status": "stopped"' not in st.stdout:
            bad.append("state not stopped at the exit: " + st.stdout.replace("\n", " "))
        if not os.path.exists(receipt) or os.path.getsize(receipt) == 0:
            bad.append("no receipt at the exit")
        if not os.path.exists(witness) or os.path.getsize(witness) == 0:
            bad.append("no witness at the exit")
        if not data.endswith(b"line1999\n") or data.count(b"\n") != 2000:
            bad.append("output incomplete at the exit: %d lines" % data.count(b"\n"))
    for b in bad:
        print(b)
    if not bad:
        print("ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
