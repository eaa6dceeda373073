"""Ring behaviour from Python: the API, its errors, and the placement properties."""

import copy
import pickle

import pytest

import shoal


def keys(n: int) -> list[str]:
    return [f"key-{shoal.splitmix64(i):016x}" for i in range(n)]


def ring_of(*ids: str, **kw) -> shoal.Ring:
    r = shoal.Ring(**kw)
    for i in ids:
        r.add(i)
    return r


def test_empty_ring_has_no_owner_and_batch_lookup_says_why():
    r = shoal.Ring()
    assert len(r) == 0 and r.locate("k") is None and r.locate_hash(1) is None
    with pytest.raises(shoal.EmptyError, match="no nodes"):
        r.locate_many(["k"])
    with pytest.raises(LookupError):
        r.locate_many(["k"])


def test_keys_may_be_str_bytes_or_bytes_like_and_agree():
    r = ring_of("a", "b", "c")
    for k in keys(50):
        owner = r.locate(k)
        assert r.locate(k.encode()) == owner
        assert r.locate(bytearray(k.encode())) == owner
        assert r.locate(memoryview(k.encode())) == owner
        assert r.locate_hash(r.key_hash(k)) == owner
        assert r.key_hash(k) == shoal.key_hash(k)
    with pytest.raises(ValueError, match="key must be str, bytes"):
        r.locate(12)


def test_add_remove_errors_leave_the_ring_unchanged():
    r = ring_of("a", "b")
    digest = r.layout_digest()
    with pytest.raises(shoal.InvalidArgumentError):
        r.add("a")  # duplicate
    with pytest.raises(ValueError, match="weight"):
        r.add("c", 0.0)
    with pytest.raises(ValueError):
        r.add("c", float("nan"))
    with pytest.raises(shoal.UnknownNodeError) as e:
        r.remove("zz")
    assert isinstance(e.value, KeyError) and "zz" in str(e.value)
    with pytest.raises(KeyError):
        r.set_weight("zz", 2.0)
    with pytest.raises(KeyError):
        r.node("zz")
    assert r.layout_digest() == digest and r.nodes == ["a", "b"]
    with pytest.raises(ValueError, match="xxh3"):
        shoal.Ring(hash="md5")
    with pytest.raises(ValueError, match="vnodes"):
        shoal.Ring(vnodes=0)


def test_join_order_does_not_matter():
    ids = [f"agent-{i}" for i in range(20)]
    a = ring_of(*ids)
    b = ring_of(*reversed(ids))
    assert a.layout_digest() == b.layout_digest()
    assert a.locate_many(keys(500)) == b.locate_many(keys(500))


def test_adding_a_node_moves_keys_only_to_it_and_diff_predicts_the_share():
    ks = keys(20_000)
    before = ring_of(*(f"n{i}" for i in range(10)))
    after = before.copy()
    after.add("new")
    old, new = before.locate_many(ks), after.locate_many(ks)
    moved = [(o, n) for o, n in zip(old, new) if o != n]
    assert moved and all(n == "new" for _, n in moved)
    plan = before.diff(after)
    assert 0 < plan.fraction_moved < 0.2
    assert plan.fraction_between(to_node="new") == pytest.approx(plan.fraction_moved)
    assert len(moved) / len(ks) == pytest.approx(plan.fraction_moved, abs=0.01)
    start, end, frm, to = plan.moves[0]
    assert to == "new" and frm in before.nodes and len(plan) == len(plan.moves)
    # Removing it again moves exactly its keys back.
    after.remove("new")
    assert after.locate_many(ks) == old


def test_weights_and_explicit_vnodes_of_the_source_agents():
    r = shoal.Ring()
    for name, v in [("QueryEngine", 100), ("MediaEngine", 80), ("InsightEngine", 120), ("ReportEngine", 60)]:
        r.add(name, vnodes=v)
    assert r.point_count == 360
    assert r.node("InsightEngine").vnodes == 120
    share = r.ownership()
    assert share["InsightEngine"] > share["ReportEngine"]
    assert sum(share.values()) == pytest.approx(1.0)
    r.set_weight("ReportEngine", 2.0)
    assert r.node("ReportEngine").weight == 2.0


def test_replicas_are_distinct_and_zone_distinct():
    r = shoal.Ring()
    for i in range(9):
        r.add(f"n{i}", zone=f"z{i % 3}")
    for k in keys(200):
        reps = r.locate_n(k, 3)
        assert len(set(reps)) == 3 and reps[0] == r.locate(k)
        zoned = r.locate_n(k, 3, distinct_zones=True)
        assert len({r.node(n).zone for n in zoned}) == 3
    assert len(r.locate_n("k", 5, distinct_zones=True)) == 3  # only three zones


def test_locate_many_accepts_iterables_and_rejects_a_single_key():
    r = ring_of("a", "b", "c")
    ks = keys(10)
    assert r.locate_many(iter(ks)) == r.locate_many(tuple(ks)) == [r.locate(k) for k in ks]
    assert r.locate_many([k.encode() for k in ks]) == r.locate_many(ks)
    mixed = ["", "a", "日本語", "naïve", "x" * 5000, b"bytes", bytearray(b"ba")] * 500
    assert r.locate_many(mixed) == [r.locate(k) for k in mixed]
    with pytest.raises(ValueError, match="not one key"):
        r.locate_many("abc")
    with pytest.raises(ValueError):
        r.locate_many(42)


def test_locate_many_over_hash_buffers():
    np = pytest.importorskip("numpy")
    import array

    r = ring_of(*(f"n{i}" for i in range(7)))
    ks = keys(3000)
    hashes = np.array([r.key_hash(k) for k in ks], dtype=np.uint64)
    idx = r.locate_many(hashes)
    assert isinstance(idx, np.ndarray) and idx.shape == (3000,)
    assert [r.nodes[i] for i in idx] == r.locate_many(ks)
    # array('Q') works too, and a strided view is refused rather than misread.
    idx2 = r.locate_many(array.array("Q", hashes.tolist()))
    assert list(idx2) == list(idx)
    with pytest.raises(ValueError, match="contiguous"):
        r.locate_many(hashes[::2])


def test_bounded_load_never_exceeds_capacity_and_fails_cleanly():
    r = ring_of("a", "b", "c", "d")
    loads = {n: 0 for n in r.nodes}
    for k in keys(4000):
        owner = r.locate_bounded(k, loads, 0.1)
        loads[owner] += 1
    assert max(loads.values()) <= -(-1.1 * 4000 // 4) + 1
    with pytest.raises(ValueError, match="4 nodes"):
        r.locate_bounded("k", [1, 2], 0.1)
    with pytest.raises(KeyError):
        r.locate_bounded("k", {"zz": 1}, 0.1)


def test_suggested_weights_reduce_the_imbalance():
    # As in the Rust test: the correction is only as fine as the vnode count, so 100
    # vnodes per unit of weight and three damped rounds.
    r = ring_of(*(f"n{i}" for i in range(20)), vnodes=100)
    ks = keys(200_000)

    def loads(ring):
        counts = {n: 0 for n in ring.nodes}
        for o in ring.locate_many(ks):
            counts[o] += 1
        return counts

    def peak_to_mean(c):
        return max(c.values()) / (sum(c.values()) / len(c))

    start = peak_to_mean(loads(r))
    for _ in range(3):
        for node, w in r.suggest_weights(loads(r), damping=0.5).items():
            r.set_weight(node, w)
    assert peak_to_mean(loads(r)) < start - 0.05
    # Targets 2:1 between two halves raise the first half's weights.
    targets = {n: 2.0 if i < 10 else 1.0 for i, n in enumerate(r.nodes)}
    w = r.suggest_weights(loads(r), targets)
    first = sum(w[n] for n in r.nodes[:10])
    assert first > 1.6 * sum(w[n] for n in r.nodes[10:])
    with pytest.raises(ValueError, match="damping"):
        r.suggest_weights(loads(r), damping=0.0)


def test_snapshot_copy_and_pickle_round_trip():
    r = shoal.Ring(vnodes=64)
    r.add("a", 2.0, zone="z1")
    r.add("b", vnodes=10)
    for clone in (
        shoal.Ring.from_snapshot(r.snapshot()),
        r.copy(),
        copy.deepcopy(r),
        pickle.loads(pickle.dumps(r)),
    ):
        assert clone.layout_digest() == r.layout_digest()
        assert clone.node("a").zone == "z1" and clone.vnodes == 64
    with pytest.raises(shoal.SnapshotError):
        shoal.Ring.from_snapshot("{not json")
    with pytest.raises(ValueError, match="version"):
        shoal.Ring.from_snapshot(r.snapshot().replace('"version":1', '"version":99'))


def test_repr_and_containment():
    r = ring_of("a")
    assert "a" in r and "b" not in r
    assert repr(r).startswith("Ring(hash=\"xxh3\"")
    assert "NodeInfo(id=\"a\"" in repr(r.node("a"))
