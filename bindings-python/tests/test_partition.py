"""PartitionTable behaviour from Python."""

import pickle

import pytest

import shoal


def test_table_basics_and_errors():
    t = shoal.PartitionTable(["a", "b", ("c", 2.0)], partitions=256, vnodes=8)
    assert t.members == ["a", "b", "c"] and len(t) == 3 and "c" in t
    assert t.partitions == 256 and t.vnodes == 8 and t.mode == "classic"
    p = t.partition_of("user:42")
    assert 0 <= p < 256
    assert t.locate("user:42") == t.owner(p) == t.owners()[p]
    assert t.locate_hash(shoal.key_hash("user:42")) == t.locate("user:42")
    with pytest.raises(ValueError, match="partition"):
        t.owner(256)
    with pytest.raises(KeyError):
        t.remove("zz")
    with pytest.raises(ValueError):
        shoal.PartitionTable(["a", "a"])
    with pytest.raises(ValueError, match="mode"):
        shoal.PartitionTable(["a"], mode="fancy")
    with pytest.raises(ValueError, match="not one string"):
        shoal.PartitionTable("abc")
    with pytest.raises(ValueError, match="member is an id"):
        shoal.PartitionTable([3])


def test_empty_table_has_no_owner():
    t = shoal.PartitionTable(partitions=16)
    assert t.locate("k") is None and t.owner(0) is None and set(t.owners()) == {None}


def test_balanced_mode_is_near_ideal_and_moves_little():
    members = [f"m{i}" for i in range(10)]
    t = shoal.PartitionTable(members, mode="balanced")
    s = t.stats()
    assert s.peak_to_mean <= s.ideal_peak_to_mean + 1e-9
    classic = shoal.PartitionTable(members).stats()
    assert classic.peak_to_mean > s.peak_to_mean
    bigger = shoal.PartitionTable(members + ["m10"], mode="balanced")
    moves = t.diff(bigger)
    assert moves and all(to == "m10" or frm != to for _, frm, to in moves)
    # Close to the ideal 1/11 of the partitions move.
    assert len(moves) / t.partitions < 2.5 / 11


def test_stats_report_the_source_quantities():
    t = shoal.PartitionTable([f"m{i}" for i in range(10)], partitions=4096, vnodes=10)
    s = t.stats()
    assert s.claims == 100 and sum(s.counts.values()) == 4096
    assert s.mean == pytest.approx(409.6)
    assert 0 < s.collision_probability < 1
    assert s.variance == pytest.approx(s.stddev**2)


def test_snapshot_and_pickle():
    t = shoal.PartitionTable(["a", ("b", 3.0)], partitions=64, mode="balanced")
    for clone in (shoal.PartitionTable.from_snapshot(t.snapshot()), pickle.loads(pickle.dumps(t))):
        assert clone.digest() == t.digest() and clone.mode == "balanced"
    with pytest.raises(ValueError):
        shoal.PartitionTable.from_snapshot("[]")
