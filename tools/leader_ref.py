#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Independent reference for stake-weighted proposer selection (include/metanode/leader.h).

Written from the specification in leader.h with nothing but hashlib, so the C implementation is
checked against a second implementation rather than against its own output. Regenerate the
golden file with:  python3 tools/leader_ref.py > tests/crypto/leader_golden.json
"""
import hashlib
import json
import struct

TAG_LEADER_DRAW = 0x1D  # must equal MN_TAG_LEADER_DRAW in include/metanode/tags.h


def proposer(validators, seed, height, rnd):
    """validators: list of (id bytes, stake). Returns (id, counter used)."""
    members = sorted(validators, key=lambda v: v[0])
    total = sum(s for _, s in members)
    rem = (2**64) % total
    counter = 0
    while True:
        msg = bytes([TAG_LEADER_DRAW]) + seed + struct.pack(">QII", height, rnd, counter)
        x = int.from_bytes(hashlib.sha256(msg).digest()[:8], "big")
        if x < 2**64 - rem:
            v = x % total
            break
        counter += 1
    cum = 0
    for vid, stake in members:
        if cum <= v < cum + stake:
            return vid, counter
        cum += stake
    raise AssertionError("unreachable")


def make_set(name, stakes):
    return [(hashlib.sha256(f"{name}-{i}".encode()).digest(), s) for i, s in enumerate(stakes)]


def main():
    sets = {
        "small": make_set("small", [10, 20, 30, 40]),
        "single": make_set("single", [7]),
        "skewed": make_set("skewed", [1, 1, 1, 1000000]),
        # Total 3 * 2^61: a quarter of all draws are rejected, exercising the counter.
        "huge": make_set("huge", [2**62, 2**61 - 5, 5]),
        "wide": make_set("wide", [i * i + 1 for i in range(100)]),
    }
    cases = []
    for name, vals in sets.items():
        for h, r in [(0, 0), (1, 0), (2, 0), (3, 1), (100, 0), (100, 7), (2**40, 3),
                     (2**64 - 1, 2**32 - 1)] + [(h, 0) for h in range(10, 30)]:
            seed = hashlib.sha256(f"seed-{name}-{h % 5}".encode()).digest()
            vid, counter = proposer(vals, seed, h, r)
            cases.append({"set": name, "seed": seed.hex(), "height": str(h), "round": r,
                          "proposer_id": vid.hex(), "draws": counter + 1})
    out = {
        "_source": "tools/leader_ref.py (independent Python implementation of leader.h)",
        "sets": {n: [{"id": i.hex(), "stake": s} for i, s in v] for n, v in sets.items()},
        "cases": cases,
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
