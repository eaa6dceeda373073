#!/usr/bin/env python3
"""Generate ketama test vectors for shoal using the reference Python library uhashring.

How to run (from the repository root):

    python3 -m venv .venv-ketama && \
        .venv-ketama/bin/pip install -r tests/vectors/requirements-ketama.txt && \
        .venv-ketama/bin/python tests/vectors/gen_ketama_uhashring.py

Writes tests/vectors/ketama_uhashring.json (next to this script). The output is
fully deterministic: fixed server list, fixed key derivation (splitmix64), and
uhashring's ketama ring is a pure function of its configuration.
"""

import json
import os
from importlib.metadata import version

from uhashring import HashRing

SERVERS = [(f"10.0.0.{i}:11211", w) for i, w in zip(range(1, 11), [1, 2, 3, 1, 5, 2, 1, 4, 2, 3])]
VNODES = 40  # uhashring default for hash_fn="ketama"
REPLICAS = 4  # uhashring KetamaRing default
NUM_KEYS = 100_000
NUM_SAMPLE = 20
NUM_FIRST_POINTS = 8

M = 2**64


def splitmix64(x):
    z = (x + 0x9E3779B97F4A7C15) % M
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % M
    return z ^ (z >> 31)


def key(i):
    return "key-%016x" % splitmix64(i)


def main():
    uhr_version = version("uhashring")
    ring = HashRing(
        nodes={name: {"weight": w} for name, w in SERVERS},
        hash_fn="ketama",
        vnodes=VNODES,
        replicas=REPLICAS,
    )
    names = [name for name, _ in SERVERS]
    index = {name: i for i, name in enumerate(names)}
    assert list(ring.get_nodes()) == names

    owners = [index[ring.get_node(key(i))] for i in range(NUM_KEYS)]

    # Number of points uhashring put on the continuum for each server
    # (counts every generated point, including any that collided).
    points_per_server = [ring.distribution[name] for name in names]

    # Ring points in uhashring's own generation order: vnode w = 0.., replica 0..3.
    first_points = {}
    for name in names:
        gen = ring.runtime._hashi_weight_generator(name, ring.nodes[name])
        pts = []
        for p in gen:
            pts.append(p)
            if len(pts) == NUM_FIRST_POINTS:
                break
        first_points[name] = pts

    sample = [{"key": key(i), "owner": names[owners[i]]} for i in range(NUM_SAMPLE)]

    def dumps(obj):
        return json.dumps(obj, separators=(", ", ": "))

    lines = ["{"]
    lines.append(f'  "generator": {dumps(f"uhashring {uhr_version} ketama")},')
    lines.append(f'  "key_rule": {dumps(f"key-%016x of splitmix64(i), i in 0..{NUM_KEYS}")},')
    lines.append('  "servers": [')
    lines.append(",\n".join(f"    {dumps({'name': n, 'weight': w})}" for n, w in SERVERS))
    lines.append("  ],")
    lines.append(f'  "vnodes": {VNODES},')
    lines.append(f'  "replicas": {REPLICAS},')
    lines.append(f'  "points_per_server": {dumps(points_per_server)},')
    lines.append('  "first_points": {')
    lines.append(",\n".join(f"    {dumps(n)}: {dumps(first_points[n])}" for n in names))
    lines.append("  },")
    lines.append('  "sample": [')
    lines.append(",\n".join(f"    {dumps(s)}" for s in sample))
    lines.append("  ],")
    lines.append(f'  "owners": {json.dumps(owners, separators=(",", ":"))}')
    lines.append("}")
    text = "\n".join(lines) + "\n"
    json.loads(text)  # sanity: valid JSON

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ketama_uhashring.json")
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"wrote {out}: {NUM_KEYS} keys, {len(ring.runtime._keys)} ring points")


if __name__ == "__main__":
    main()
