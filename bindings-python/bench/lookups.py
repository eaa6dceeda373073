"""Ring lookups per second: shoal vs uhashring, same nodes, same keys, same run.

    .venv/bin/python bindings-python/bench/lookups.py [--keys 200000] [--rounds 5]

(`make bench-python` runs it.) For each cluster size it measures, alternating rounds
so that machine noise hits every contender alike, and prints medians and ratios
against uhashring measured in the same run:

* single lookups in a Python loop: ``uhashring.HashRing.get_node(k)`` vs
  ``shoal.Ring.locate(k)`` (xxh3, 160 vnodes) and a ketama ring (40 vnodes, the
  layout uhashring's ketama mode and libketama use);
* batch: ``shoal.Ring.locate_many(list_of_keys)`` → list of owners, and
  ``locate_many(numpy uint64 hashes)`` → numpy array of node indices. uhashring has
  no batch call, so its column is its single-lookup loop.
"""

import argparse
import platform
import statistics
import time

import shoal

try:
    import numpy as np
except ImportError:  # the hash-array column needs numpy
    np = None

from uhashring import HashRing


def keys(n: int) -> list[str]:
    return [f"key-{shoal.splitmix64(i):016x}" for i in range(n)]


def rate(fn, n: int) -> float:
    t = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t)


def bench(nodes: int, ks: list[str], rounds: int) -> dict[str, float]:
    ids = [f"10.0.{i // 256}.{i % 256}:11211" for i in range(nodes)]
    uh = HashRing(nodes=ids)
    xx = shoal.Ring()
    ke = shoal.Ring(hash="ketama")
    for i in ids:
        xx.add(i)
        ke.add(i)
    hashes = np.array([xx.key_hash(k) for k in ks], dtype=np.uint64) if np is not None else None

    def single(get):
        def run():
            for k in ks:
                get(k)

        return run

    contenders = {
        "uhashring get_node": single(uh.get_node),
        "shoal locate (xxh3)": single(xx.locate),
        "shoal locate (ketama)": single(ke.locate),
        "shoal locate_many(list)": lambda: xx.locate_many(ks),
    }
    if hashes is not None:
        contenders["shoal locate_many(uint64)"] = lambda: xx.locate_many(hashes)
    # Sanity: the contenders answer (shoal's two batch forms agree with its loop).
    assert xx.locate_many(ks[:100]) == [xx.locate(k) for k in ks[:100]]
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            samples[name].append(rate(fn, len(ks)))
    return {name: statistics.median(v) for name, v in samples.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keys", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--nodes", type=int, nargs="+", default=[10, 100, 1000])
    args = ap.parse_args()
    ks = keys(args.keys)
    print(
        f"ring lookups/s, median of {args.rounds} alternating rounds of {args.keys} keys; "
        f"Python {platform.python_version()}, {platform.machine()}"
    )
    print(f"{'nodes':>6}  {'contender':<26} {'lookups/s':>14} {'vs uhashring':>13}")
    for n in args.nodes:
        res = bench(n, ks, args.rounds)
        anchor = res["uhashring get_node"]
        for name, r in res.items():
            print(f"{n:>6}  {name:<26} {r:>14,.0f} {r / anchor:>12.1f}x")


if __name__ == "__main__":
    main()
