"""simulate(): the deterministic gossip simulator from Python."""

import pytest

import shoal


def test_join_converges_and_is_deterministic():
    a = shoal.simulate(100, "join", seed=7)
    b = shoal.simulate(100, "join", seed=7)
    conv = a.converged
    assert conv["all"] is not None and conv["p50"] <= conv["all"]
    assert b.converged == conv and a.delivered == b.delivered
    assert a.protocol == "shoal" and a.nodes == 100 and a.false_failures == 0


def test_crash_is_detected_by_every_member():
    r = shoal.simulate(50, "crash", seed=3)
    det = r.detection
    assert r.detection_first is not None and det["all"] is not None
    assert r.detection_first <= det["all"] < 30
    assert len(r.detection_times) == 49


def test_classic_protocol_and_loss():
    r = shoal.simulate(30, "join", protocol="classic", loss=0.1, seed=2)
    assert r.protocol == "classic" and r.loss == 0.1 and r.lost > 0


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"nodes": 1}, "nodes"),
        ({"nodes": 10, "scenario": "explode"}, "scenario"),
        ({"nodes": 10, "protocol": "raft"}, "protocol"),
        ({"nodes": 10, "loss": 1.5}, "loss"),
        ({"nodes": 10, "fanout": 0}, "fanout"),
        ({"nodes": 10, "duration": float("inf")}, "duration"),
        ({"nodes": 10, "latency_ms": (50, 10)}, "latency"),
    ],
)
def test_bad_arguments_are_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        shoal.simulate(**kwargs)
