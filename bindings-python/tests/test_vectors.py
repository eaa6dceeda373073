"""Every shared vector in tests/vectors/ holds in Python: the same keys get the same
owners, replicas, partitions and digests as in Rust (and Node, and the browser)."""

import json
from pathlib import Path

import pytest

import shoal

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "vectors"


def load(name: str) -> dict:
    return json.loads((VECTORS / f"{name}.json").read_text())


def key(i: int) -> str:
    """The vectors' key rule: "key-" + 16 lowercase hex digits of splitmix64(i)."""
    return f"key-{shoal.splitmix64(i):016x}"


def test_splitmix64_matches_the_reference_algorithm():
    def reference(i: int) -> int:
        m = (1 << 64) - 1
        z = (i + 0x9E3779B97F4A7C15) & m
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
        return z ^ (z >> 31)

    for i in (0, 1, 2, 12345, 2**63, 2**64 - 1):
        assert shoal.splitmix64(i) == reference(i)


def build_ring(doc: dict, case: dict) -> shoal.Ring:
    ring = shoal.Ring(vnodes=case["vnodes"], hash=doc["hash"])
    for n in case["nodes"]:
        ring.add(n["id"], n.get("weight", 1.0), vnodes=n.get("vnodes"), zone=n.get("zone"))
    return ring


@pytest.mark.parametrize("name", ["ring_xxh3", "ring_ketama"])
def test_ring_vectors(name):
    doc = load(name)
    probe = shoal.Ring(hash=doc["hash"])
    for kp in doc["key_positions"]:
        assert probe.key_hash(kp["input"]) == int(kp["position"]), kp["input"]
        assert probe.key_hash(kp["input"].encode()) == int(kp["position"])
    keys = [key(i) for i in range(doc["keys"])]
    for case in doc["cases"]:
        ring = build_ring(doc, case)
        ids = [n["id"] for n in case["nodes"]]
        assert ring.layout_digest() == int(case["layout_digest"]), case["name"]
        assert [ring.node(i).vnodes for i in ids] == case["vnode_counts"], case["name"]
        expected = [ids[o] for o in case["owners"]]
        assert [ring.locate(k) for k in keys] == expected, case["name"]
        # The batch paths agree with the vectors too: a list of keys, and a uint64
        # buffer of key hashes giving indices into ring.nodes.
        assert ring.locate_many(keys) == expected, case["name"]
        np = pytest.importorskip("numpy")
        hashes = np.array([ring.key_hash(k) for k in keys], dtype=np.uint64)
        idx = ring.locate_many(hashes)
        assert idx.dtype == np.uint32
        nodes = ring.nodes
        assert [nodes[i] for i in idx] == expected, case["name"]
        for i, rep in enumerate(case["replicas3"]):
            assert ring.locate_n(keys[i], 3) == [ids[r] for r in rep], (case["name"], i)
        for i, rep in enumerate(case["replicas3_distinct_zones"]):
            got = ring.locate_n(keys[i], 3, distinct_zones=True)
            assert got == [ids[r] for r in rep], (case["name"], i)


def test_key_rule_matches_the_vectors():
    doc = load("ring_xxh3")
    inputs = {kp["input"] for kp in doc["key_positions"]}
    assert key(0) in inputs


def test_ketama_matches_uhashring():
    doc = load("ketama_uhashring")
    ring = shoal.Ring(vnodes=doc["vnodes"], hash="ketama")
    for s in doc["servers"]:
        ring.add(s["name"], s["weight"])
    names = [s["name"] for s in doc["servers"]]
    assert [ring.node(n).points for n in names] == doc["points_per_server"]
    for sample in doc["sample"]:
        assert ring.locate(sample["key"]) == sample["owner"]
    keys = [key(i) for i in range(len(doc["owners"]))]
    assert ring.locate_many(keys) == [names[o] for o in doc["owners"]]


@pytest.mark.parametrize("name", ["partition_classic", "partition_balanced"])
def test_partition_vectors(name):
    doc = load(name)
    keys = [key(i) for i in range(doc["keys"])]
    for case in doc["cases"]:
        members = [(m["id"], m.get("weight", 1.0)) for m in case["members"]]
        table = shoal.PartitionTable(
            members, partitions=case["partitions"], vnodes=case["vnodes"], mode=case["mode"]
        )
        ids = [m[0] for m in members]
        assert table.digest() == int(case["digest"]), case["name"]
        assert table.owners() == [ids[o] for o in case["owners"]], case["name"]
        assert [table.partition_of(k) for k in keys] == case["key_partitions"], case["name"]
        stats = table.stats()
        counts = stats.counts
        assert [counts[i] for i in ids] == case["counts"], case["name"]
        assert stats.claims == case["claims"]
        assert stats.collisions == case["collisions"]
        # Any join order gives the same table.
        shuffled = shoal.PartitionTable(
            list(reversed(members)),
            partitions=case["partitions"],
            vnodes=case["vnodes"],
            mode=case["mode"],
        )
        assert shuffled.digest() == table.digest()


def test_bounded_load_vectors():
    doc = load("placement_alternatives")["bounded_load"]
    ring = shoal.Ring(vnodes=doc["vnodes"], hash=doc["hash"])
    for n in doc["nodes"]:
        ring.add(n["id"], weight=n["weight"])
    ids = [n["id"] for n in doc["nodes"]]
    loads = dict.fromkeys(ids, 0)
    owners = []
    for i in range(len(doc["owners"])):
        owner = ring.locate_bounded(key(i), loads, epsilon=doc["epsilon"])
        loads[owner] += 1
        owners.append(owner)
    assert owners == [ids[o] for o in doc["owners"]]
