"""Router: keyed payloads to their owners — through the bus to members on this host
(by a Ring or PartitionTable), over TCP between Nodes with acknowledgements — and the
errors of each path.

Every test is bounded (60 s).
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from helpers import eventually

import shoal
from shoal import Bus, Destination, PartitionTable, Ring, Router


pytestmark = pytest.mark.usefixtures("deadline")


_buses = 0


@pytest.fixture
def bus():
    global _buses
    _buses += 1
    return Bus.create(f"test-router-{os.getpid()}-{_buses}")


def pair(start, **kw):
    a = start(id="a", **kw)
    b = start(id="b", seeds=[a.address], **kw)
    eventually("a and b see each other", lambda: len(a.members()) == 2 == len(b.members()))
    eventually("one placement", lambda: a.placement_digest() == b.placement_digest())
    return a, b


def ring_of(*ids):
    ring = Ring()
    for i in ids:
        ring.add(i)
    return ring


KEYS = [f"order-{i}" for i in range(200)]


def drain(receiver, n, timeout=10.0):
    """`n` messages from `receiver` as bytes; then checks nothing more is waiting."""
    got = [bytes(receiver.recv(timeout=timeout)) for _ in range(n)]
    assert receiver.try_recv() is None
    return got


def test_destination_follows_the_ring_and_the_local_list(bus):
    ring = ring_of("a", "b", "c")
    router = Router(bus, placement=ring, local=["a", "b"])
    for k in KEYS:
        d = router.destination(k)
        assert isinstance(d, Destination)
        assert d.owner == ring.locate(k)
        assert d.is_local == (d.owner in ("a", "b"))
    assert router.is_local("a") and not router.is_local("c")
    # The router reads the ring at each route: later changes apply.
    ring.remove("c")
    assert {router.destination(k).owner for k in KEYS} == {"a", "b"}
    assert all(router.destination(k).is_local for k in KEYS)
    router.add_local("c")
    assert router.is_local("c") and router.remove_local("c") and not router.remove_local("c")
    assert router.destination(b"raw-bytes-key").owner == ring.locate(b"raw-bytes-key")
    assert router.endpoint_of("a") == "a"
    assert router.node is None
    assert router.stats() == {"local": 0, "remote": 0, "failed": 0}


def test_destination_by_partition_table(bus):
    table = PartitionTable(["x", ("y", 2)], partitions=64)
    router = Router(bus, placement=table, local=["x", "y"], prefix="agent/")
    assert [router.destination(k).owner for k in KEYS] == [table.locate(k) for k in KEYS]
    assert router.endpoint_of("y") == "agent/y"


def test_ring_router_delivers_to_local_endpoints(bus):
    ring = ring_of("a", "b", "c")
    inbox = {i: bus.endpoint(f"agent/{i}") for i in ("a", "b", "c")}
    router = Router(bus, placement=ring, local=["a", "b", "c"], prefix="agent/")
    expected = {i: [] for i in inbox}
    for k in KEYS:
        d = router.route(k, k.encode())
        assert d.is_local and d.owner == ring.locate(k)
        expected[d.owner].append(k.encode())
    assert all(expected.values())
    assert router.stats() == {"local": len(KEYS), "remote": 0, "failed": 0}
    for i, r in inbox.items():
        assert drain(r, len(expected[i])) == expected[i]


def test_payloads_may_be_any_bytes_like(bus):
    import numpy as np

    inbox = bus.endpoint("solo")
    router = Router(bus, placement=ring_of("solo"), local=["solo"])
    arr = np.arange(4, dtype=np.float64)
    payloads = [b"bytes", bytearray(b"bytearray"), memoryview(b"view"), arr, b""]
    for p in payloads:
        assert router.route("k", p) == router.destination("k")
    got = drain(inbox, len(payloads))
    assert got == [b"bytes", b"bytearray", b"view", arr.tobytes(), b""]
    assert router.stats() == {"local": 5, "remote": 0, "failed": 0}


def test_route_errors(bus):
    with pytest.raises(shoal.EmptyError) as empty:
        Router(bus, placement=Ring()).route("k", b"v")
    assert isinstance(empty.value, LookupError)

    ring = ring_of("here", "there")
    router = Router(bus, placement=ring, local=["here"], prefix="agent/")
    key_here = next(k for k in KEYS if ring.locate(k) == "here")
    key_there = next(k for k in KEYS if ring.locate(k) == "there")
    # No consumer on the local owner's endpoint.
    with pytest.raises(shoal.BusNotFoundError) as missing:
        router.route(key_here, b"v")
    assert isinstance(missing.value, FileNotFoundError)
    assert "agent/here" in str(missing.value)
    assert any(key_here in n for n in missing.value.__notes__)
    # A remote owner and no node to reach it.
    with pytest.raises(shoal.NetError, match="no node") as remote:
        router.route(key_there, b"v")
    assert any('"there"' in n for n in remote.value.__notes__)
    assert router.stats() == {"local": 0, "remote": 0, "failed": 2}
    # Payloads and keys of the wrong type.
    with pytest.raises(ValueError, match="encode"):
        router.route(key_here, "text")
    with pytest.raises(ValueError, match="bytes-like"):
        router.route(key_here, 42)
    with pytest.raises(ValueError):
        router.route(3.5, b"v")
    assert router.flush(0.1) is None  # no node: nothing is ever pending


def test_router_construction_errors(bus, nodes):
    n = nodes(id="n")
    with pytest.raises(ValueError, match="node or a placement"):
        Router(bus)
    with pytest.raises(ValueError, match="not both"):
        Router(bus, n, placement=Ring())
    with pytest.raises(ValueError, match="shoal.Ring"):
        Router(bus, placement={"a": 1})
    for bad in (dict(retry_after=-1.0), dict(send_timeout=float("nan")), dict(max_pending=0)):
        with pytest.raises(ValueError):
            Router(bus, n, **bad)
    with pytest.raises(TypeError):
        Router("not a bus", placement=Ring())


def test_node_router_sends_remote_keys_over_tcp(bus, nodes):
    a, b = pair(nodes)
    router = Router(bus, a, prefix="agent/")
    assert router.node is a and router.is_local("a") and not router.is_local("b")
    remote = [k for k in KEYS if a.locate(k) == "b"][:20]
    for k in remote:
        d = router.route(k, k.encode())
        assert (d.owner, d.is_local) == ("b", False)
    # b takes routed payloads for its endpoint, which has no consumer (yet): it refuses
    # them, and they stay pending on a's side.
    b.serve_routes(bus, prefix="agent/")
    eventually("b refuses", lambda: b.status()["routes_refused"] > 0)
    with pytest.raises(shoal.TimeoutError, match="unacknowledged"):
        router.flush(0.3)
    s = router.stats()
    assert (s["remote"], s["sent"], s["acked"], s["pending"]) == (20, 20, 0, 20)
    assert s["refused"] > 0
    assert b.status()["routes_delivered"] == 0

    # A long flush stays responsive to signals (Ctrl-C).
    class Interrupted(Exception):
        pass

    def on_alarm(signum, frame):
        raise Interrupted

    old = signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        t0 = time.monotonic()
        with pytest.raises(Interrupted):
            router.flush(30)
        assert time.monotonic() - t0 < 2
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_node_router_delivers_to_the_owners_endpoint_with_acks(bus, nodes):
    a, b = pair(nodes)
    inbox = {n.id: bus.endpoint(f"agent/{n.id}") for n in (a, b)}
    for n in (a, b):
        n.serve_routes(bus, prefix="agent/")
    router = Router(bus, a, prefix="agent/")
    expected = {"a": [], "b": []}
    for k in KEYS:
        d = router.route(k, k.encode())
        assert d.owner == a.locate(k) == b.locate(k)
        assert d.is_local == (d.owner == "a")
        expected[d.owner].append(k.encode())
    router.flush(10)
    s = router.stats()
    remote = len(expected["b"])
    assert 0 < remote < len(KEYS)
    assert (s["local"], s["remote"], s["failed"]) == (len(KEYS) - remote, remote, 0)
    assert (s["sent"], s["acked"], s["pending"]) == (remote, remote, 0)
    assert drain(inbox["a"], len(expected["a"])) == expected["a"]
    # Over TCP one connection carries them in order.
    assert drain(inbox["b"], remote) == expected["b"]
    eventually("b counts its deliveries", lambda: b.status()["routes_delivered"] == remote)
    assert a.status()["routes_delivered"] == 0


def test_refused_payloads_are_delivered_once_a_consumer_appears(bus, nodes):
    a, b = pair(nodes)
    b.serve_routes(bus, prefix="agent/")
    router = Router(bus, a, prefix="agent/", retry_after=0.2)
    key = next(k for k in KEYS if a.locate(k) == "b")
    router.route(key, b"late")
    eventually("a refusal", lambda: router.stats()["refused"] > 0)
    inbox = bus.endpoint("agent/b")
    router.flush(10)
    assert drain(inbox, 1) == [b"late"]
    assert router.stats()["resent"] > 0


def test_router_of_a_closed_node_raises_net_error(bus, nodes):
    a, b = pair(nodes)
    router = Router(bus, a)
    a.close()
    with pytest.raises(shoal.NetError, match="closed"):
        router.route("k", b"v")
    with pytest.raises(shoal.NetError, match="closed"):
        router.destination("k")
    with pytest.raises(shoal.NetError, match="closed"):
        Router(bus, a)
    with pytest.raises(shoal.NetError, match="closed"):
        a.serve_routes(bus)
