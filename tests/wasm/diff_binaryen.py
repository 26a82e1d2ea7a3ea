#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Differential test of the WASM engine against binaryen's interpreter (issue 4).

For N rounds: random bytes -> `wasm-opt -ttf` (a valid module) -> binaryen's
`--fuzz-exec-before` output and our `wasm_dump` output -> compare call by call: the sequence of
host log calls, each export's result and whether it trapped. Floats are compared by bit pattern
except NaNs, which compare by class (both engines may pick different NaN payloads for
arithmetic). Disagreeing modules are copied into OUT_DIR (default tests/regress/wasm_diff/) to
become regression inputs.

Usage: diff_binaryen.py WASM_DUMP [--rounds N] [--seed S] [--out DIR] [--policy]
       diff_binaryen.py WASM_DUMP --check DIR
The second form replays DIR/*.wasm against the binaryen outputs saved beside them (*.exp), so
CTest keeps the agreement without needing binaryen installed.
"""
import argparse
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile


def norm_float(text, bits):
    """binaryen prints floats as decimal text, nan:0xPAYLOAD or inf; returns a comparable key."""
    t = text.strip()
    if "nan" in t:
        return "nan"
    if t in ("inf", "-inf"):
        v = float(t)
    else:
        v = float(t)
    if bits == 32:
        return "f32:0x%08x" % struct.unpack("<I", struct.pack("<f", v))[0]
    return "f64:0x%016x" % struct.unpack("<Q", struct.pack("<d", v))[0]


def ours_float(token):
    kind, hexbits = token.split(":")
    b = int(hexbits, 16)
    if kind == "f32":
        if (b & 0x7F800000) == 0x7F800000 and (b & 0x7FFFFF):
            return "nan"
        return token
    if (b & 0x7FF0000000000000) == 0x7FF0000000000000 and (b & 0xFFFFFFFFFFFFF):
        return "nan"
    return token


def parse(lines, ours, float_kinds):
    """Returns a list of events: ('call', name), ('log', value), ('result', name, value),
    ('trap',)."""
    ev = []
    for line in lines:
        if line.startswith("[fuzz-exec] calling "):
            ev.append(("call", line[len("[fuzz-exec] calling "):].strip()))
        elif line.startswith("[trap") or line.startswith("[host limit"):
            ev.append(("trap",))
        elif line.startswith("[LoggingExternalInterface logging "):
            v = line[len("[LoggingExternalInterface logging "):].rstrip("]\n").strip()
            if " " in v:  # binaryen logs an i64 as its low and high i32 halves
                lo, hi = (int(x) for x in v.split())
                x = ((hi & 0xFFFFFFFF) << 32) | (lo & 0xFFFFFFFF)
                v = str(x - (1 << 64) if x >> 63 else x)
            ev.append(("log", v))
        elif line.startswith("[fuzz-exec] note result: "):
            m = re.match(r"\[fuzz-exec\] note result: (.*) => (.*)$", line.strip())
            if m:
                ev.append(("result", m.group(1), m.group(2)))
    return ev


def compare(theirs, ours):
    """Compares event lists; floats in ours are raw bits, in theirs decimal text."""
    if len(theirs) != len(ours):
        return "different number of events (%d vs %d)" % (len(theirs), len(ours))
    for a, b in zip(theirs, ours):
        if a[0] != b[0]:
            return "event %r vs %r" % (a, b)
        if a[0] in ("log", "result"):
            va, vb = a[-1], b[-1]
            if vb.startswith("f32:") or vb.startswith("f64:"):
                try:
                    va = norm_float(va, 32 if vb.startswith("f32:") else 64)
                except ValueError:
                    return "unparsable float %r" % (va,)
                vb = ours_float(vb)
            if va != vb:
                return "value %r vs %r in %r" % (va, vb, b)
    return None


def ours_agrees(dump, mod, theirs_ev, policy):
    """None if our run of mod agrees with binaryen's events, else the reason."""
    cmd = [dump] + (["--policy"] if policy else []) + [mod]
    ours = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if ours.returncode not in (0, 1) or "[load error]" in ours.stdout:
        return "our engine failed: rc=%d %s %s" % (ours.returncode, ours.stdout[-300:],
                                                   ours.stderr[-300:])
    return compare(theirs_ev, parse(ours.stdout.splitlines(), True, None))


def check(args):
    mods = sorted(f for f in os.listdir(args.check) if f.endswith(".wasm"))
    bad = 0
    for name in mods:
        mod = os.path.join(args.check, name)
        with open(mod[:-5] + ".exp") as f:
            theirs_ev = parse(f.read().splitlines(), False, None)
        why = ours_agrees(args.dump, mod, theirs_ev, False)
        if why is not None and ours_agrees(args.dump, mod, theirs_ev, True) is not None:
            bad += 1
            print("DISAGREE %s: %s" % (name, why))
    print("%d passed, %d failed" % (len(mods) - bad, bad))
    return 1 if bad or not mods else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--policy", action="store_true", help="run ours with NaN canonicalisation")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "regress",
                                                  "wasm_diff"))
    ap.add_argument("--check", help="replay DIR/*.wasm against DIR/*.exp")
    args = ap.parse_args()
    if args.check:
        return check(args)
    if not shutil.which("wasm-opt"):
        print("wasm-opt (Debian package binaryen) is required", file=sys.stderr)
        return 1
    rng = random.Random(args.seed)
    agree = disagree = skipped = nan_bits = 0
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            raw = os.path.join(tmp, "r.bin")
            mod = os.path.join(tmp, "m.wasm")
            with open(raw, "wb") as f:
                f.write(bytes(rng.getrandbits(8) for _ in range(rng.randint(100, 8000))))
            if subprocess.run(["wasm-opt", "-ttf", raw, "-o", mod], capture_output=True).returncode:
                skipped += 1
                continue
            theirs = subprocess.run(["wasm-opt", mod, "--fuzz-exec-before"], capture_output=True,
                                    text=True, timeout=120)
            theirs_ev = parse(theirs.stdout.splitlines(), False, None)

            def run_ours(policy):
                cmd = [args.dump] + (["--policy"] if policy else []) + [mod]
                ours = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
                if ours.returncode not in (0, 1) or "[load error]" in ours.stdout:
                    return "our engine failed: rc=%d %s %s" % (
                        ours.returncode, ours.stdout[-300:], ours.stderr[-300:])
                return compare(theirs_ev, parse(ours.stdout.splitlines(), True, None))

            why = run_ours(args.policy)
            if why is not None and run_ours(not args.policy) is None:
                # Arithmetic NaN bits are nondeterministic (binaryen's and x86's differ); when
                # they flow into memory or integers only one of the two modes can agree.
                nan_bits += 1
                why = None
            if why is None:
                agree += 1
                continue
            disagree += 1
            os.makedirs(args.out, exist_ok=True)
            keep = os.path.join(args.out, "diff-seed%d-round%d.wasm" % (args.seed, r))
            shutil.copy(mod, keep)
            print("DISAGREE round %d (%s): %s" % (r, keep, why))
    print("%d agree (%d only with the other NaN mode), %d disagree, %d skipped"
          % (agree, nan_bits, disagree, skipped))
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
