"""Node: gossip membership on loopback — convergence, placement agreement with Ring and
PartitionTable, metadata, events (iterator, timeout, Ctrl-C, asyncio), keys, errors.

Every node binds 127.0.0.1 port 0 and is closed by its test; every test is bounded
(the `deadline` fixture aborts with a traceback after 60 s).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from helpers import eventually

import shoal
from shoal import Event, Member, Node, PartitionTable, Ring


pytestmark = pytest.mark.usefixtures("deadline")


def cluster(start, specs, **kw):
    """Nodes `specs` = [(id, weight), ...]: the first is the seed of the others; waits
    until all see all and place alike."""
    first = start(id=specs[0][0], weight=specs[0][1], **kw)
    rest = [start(id=i, weight=w, seeds=[first.address], **kw) for i, w in specs[1:]]
    everyone = [first, *rest]
    eventually(
        "every node sees all",
        lambda: all(len(n.members()) == len(specs) for n in everyone),
    )
    eventually(
        "one placement",
        lambda: len({n.placement_digest() for n in everyone}) == 1,
    )
    return everyone


KEYS = [f"key-{shoal.splitmix64(i):016x}" for i in range(300)]


def test_three_nodes_converge_and_place_keys_like_a_ring(nodes):
    specs = [("query", 100), ("media", 80), ("insight", 120)]
    everyone = cluster(nodes, specs, role="engine", vnodes=1)
    views = [[(m.id, m.weight, m.status) for m in n.members()] for n in everyone]
    expected = sorted((i, w, "alive") for i, w in specs)
    assert all(v == expected for v in views), views

    ring = Ring(vnodes=1)
    for i, w in specs:
        ring.add(i, w)
    assert ring.point_count == 300
    assert everyone[0].placement_digest() == ring.layout_digest()
    for n in everyone:
        assert [n.locate(k) for k in KEYS] == ring.locate_many(KEYS)
    # Bytes keys hash like their str.
    assert everyone[1].locate(b"order-7") == ring.locate("order-7")
    owners = {everyone[2].locate(k) for k in KEYS}
    assert owners == {"query", "media", "insight"}
    eventually(
        "one membership view",
        lambda: len({n.membership_digest() for n in everyone}) == 1,
    )


def test_table_placement_matches_partition_table(nodes):
    specs = [("a", 1), ("b", 2), ("c", 3)]
    everyone = cluster(nodes, specs, placement="table", partitions=256, mode="balanced")
    table = PartitionTable(specs, partitions=256, vnodes=10, mode="balanced")
    assert everyone[0].placement_digest() == table.digest()
    for n in everyone:
        assert [n.locate(k) for k in KEYS[:100]] == [table.locate(k) for k in KEYS[:100]]


def test_member_records_and_update_meta(nodes):
    a, b = cluster(nodes, [("a", 1), ("b", 2)], role="worker")
    me = a.local_member()
    assert isinstance(me, Member)
    assert (me.id, me.address, me.status, me.role, me.weight, me.zone, me.live) == (
        "a", a.address, "alive", "worker", 1, None, True
    )
    assert me in a.members()
    assert a.id == "a" and a.address == a.local_address
    host, port = a.address.rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0

    ev = b.events()
    before = a.placement_digest()
    a.update_meta(weight=5, zone="z1")
    e = ev.next_event(timeout=10)
    assert e is not None and (e.kind, e.member.id) == ("updated", "a")
    assert (e.member.weight, e.member.zone, e.member.role) == (5, "z1", "worker")
    eventually("b sees the new weight", lambda: {m.id: m.weight for m in b.members()}["a"] == 5)
    eventually("placement follows", lambda: b.placement_digest() != before)
    ring = Ring()
    ring.add("a", 5, zone="z1")
    ring.add("b", 2)
    assert b.placement_digest() == ring.layout_digest()
    # Partial update: the role is kept, "" clears the zone.
    a.update_meta(zone="")
    eventually(
        "zone cleared",
        lambda: [(m.role, m.weight, m.zone) for m in b.members() if m.id == "a"]
        == [("worker", 5, None)],
    )
    with pytest.raises(ValueError):
        a.update_meta(weight=-3)


def test_own_placement_follows_own_update_meta(nodes):
    a, b = cluster(nodes, [("a", 1), ("b", 2)])
    a.update_meta(weight=5)
    ring = Ring()
    ring.add("a", 5)
    ring.add("b", 2)
    eventually("b follows", lambda: b.placement_digest() == ring.layout_digest())
    eventually("a follows", lambda: a.placement_digest() == ring.layout_digest(), timeout=3)


def test_status_counters(nodes):
    a, b = cluster(nodes, [("a", 1), ("b", 1)])
    eventually("packets counted", lambda: a.status()["received_packets"] > 0)
    s = a.status()
    assert isinstance(s, dict)
    for name in ("sent_packets", "probes", "placement_rebuilds", "routes_delivered"):
        assert isinstance(s[name], int)
    assert s["routes_delivered"] == 0
    assert s["placement_rebuilds"] >= 1


def test_events_joined_then_left_when_a_node_closes(nodes):
    a = nodes(id="a")
    events = a.events()
    b = nodes(id="b", seeds=[a.address])
    e = events.next_event(timeout=10)
    assert isinstance(e, Event)
    assert (e.kind, e.member.id, e.member.address) == ("joined", "b", b.address)
    b.close()
    kinds = []
    while (e := events.next_event(timeout=10)) is not None:
        kinds.append((e.kind, e.member.id))
        if e.kind == "left":
            break
    assert ("left", "b") in kinds
    assert e.member.status == "left"
    eventually("b gone", lambda: [m.id for m in a.members()] == ["a"])
    assert [m.status for m in a.members(live_only=False) if m.id == "b"] == ["left"]


VICTIM = """
import sys, time
from shoal import Node
n = Node.start("127.0.0.1:0", id="victim", seeds=[sys.argv[1]], protocol="fast")
print(n.address, flush=True)
time.sleep(60)
"""


def test_events_failed_when_a_member_process_is_killed(nodes):
    a = nodes(id="watcher", protocol="fast")
    events = a.events()
    child = subprocess.Popen(
        [sys.executable, "-c", VICTIM, a.address], stdout=subprocess.PIPE, text=True
    )
    try:
        e = events.next_event(timeout=15)
        assert e is not None and (e.kind, e.member.id) == ("joined", "victim")
        child.kill()
        child.wait(timeout=10)
        seen = []
        end = time.monotonic() + 20
        while time.monotonic() < end:
            e = events.next_event(timeout=1)
            if e is not None:
                seen.append(e.kind)
                if e.kind == "failed":
                    break
        assert "failed" in seen, seen
        assert e.member.id == "victim" and e.member.status == "dead"
        assert a.locate("anything") == "watcher"
    finally:
        child.kill()
        child.wait(timeout=10)
        child.stdout.close()


def test_event_iterator_ends_when_the_node_stops(nodes):
    a = nodes(id="a")
    events = a.events()
    t0 = time.monotonic()
    assert events.next_event(timeout=0.3) is None
    assert 0.25 <= time.monotonic() - t0 < 2
    assert events.try_next() is None
    assert not events.closed

    got = []
    done = threading.Event()

    def consume():
        for e in events:  # blocks without the GIL until a.close()
            got.append(e.kind)
        done.set()

    t = threading.Thread(target=consume)
    t.start()
    b = nodes(id="b", seeds=[a.address])
    eventually("b joined", lambda: "joined" in got)
    a.close()
    assert done.wait(10), "the iterator did not end when the node stopped"
    t.join()
    assert events.closed
    assert events.next_event(timeout=5) is None  # at once: ended
    assert list(events) == []
    b.close()


def test_ctrl_c_interrupts_a_blocked_event_wait(nodes):
    a = nodes(id="a")
    events = a.events()

    class Interrupted(Exception):
        pass

    def on_alarm(signum, frame):
        raise Interrupted

    old = signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        t0 = time.monotonic()
        with pytest.raises(Interrupted):
            next(events)
        assert time.monotonic() - t0 < 2
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(Interrupted):
            events.next_event(timeout=30)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_async_for_under_asyncio_run(nodes):
    a = nodes(id="a")

    async def main():
        stream = a.events_async()
        # Nothing yet: a timed-out wait loses nothing and does not block the loop.
        ticks = 0

        async def tick():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(anext(stream), 0.3)
        assert ticks >= 5, "the event loop was blocked"
        b = nodes(id="b", seeds=[a.address])
        e = await asyncio.wait_for(anext(stream), 10)
        assert (e.kind, e.member.id) == ("joined", "b")
        await asyncio.get_running_loop().run_in_executor(None, b.close)
        kinds = []
        async with asyncio.timeout(10):
            async for e in stream:
                kinds.append((e.kind, e.member.id))
                if e.kind == "left":
                    break
        assert ("left", "b") in kinds
        # `async for` over the iterator itself, ending when the node stops.
        events = a.events()
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, a.close)
        async with asyncio.timeout(10):
            rest = [e async for e in events]
        assert rest == [] or all(e.member.id == "a" for e in rest)
        ticker.cancel()

    t0 = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - t0 < 20


def test_asyncio_run_shutdown_does_not_hang_on_a_pending_wait(nodes):
    a = nodes(id="a")

    async def main():
        stream = a.events_async()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(anext(stream), 0.05)
        # Returns with an executor call still in flight.

    t0 = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - t0 < 2


def test_keys_authenticate_and_encrypt(nodes):
    k1, k2 = os.urandom(32), bytes(range(32))
    a = nodes(id="a", keys=[k1], encrypt=True, protocol="fast")
    b = nodes(id="b", keys=[k1.hex()], encrypt=True, seeds=[a.address], protocol="fast")
    eventually("keyed members converge", lambda: len(a.members()) == 2 == len(b.members()))
    outsider = nodes(id="c", keys=[k2], encrypt=True, seeds=[a.address], protocol="fast")
    eventually("a rejects the other key", lambda: a.status()["rejected_unknown_key"] > 0)
    assert [m.id for m in a.members()] == ["a", "b"]
    assert [m.id for m in outsider.members()] == ["c"]
    # Rotation: the outsider accepts k1 too and seals with it: it joins.
    outsider.set_keys([k1, k2])
    eventually("c joins after rotation", lambda: len(a.members()) == 3)
    with pytest.raises(ValueError):
        a.set_keys([b"short"])


def test_seeds_as_host_port_tuples(nodes):
    a = nodes(id="a")
    host, port = a.address.rsplit(":", 1)
    b = nodes(id="b", seeds=[("localhost", int(port))])
    eventually("joined by tuple seed", lambda: len(b.members()) == 2)


def test_bad_settings_raise_value_errors(nodes):
    for bad in ("nonsense", "127.0.0.1:99999", "127.0.0.1", "[::1"):
        with pytest.raises(ValueError):
            Node.start(bad)
    with pytest.raises(TypeError):
        Node.start(("127.0.0.1", 0))
    with pytest.raises(ValueError, match="advertise"):
        Node.start("0.0.0.0:0")
    cases = [
        dict(weight=-1),
        dict(weight=2**32),
        dict(placement="cube"),
        dict(hash="md4"),
        dict(placement="table", mode="fancy"),
        dict(placement="table", partitions=0),
        dict(vnodes=0),
        dict(protocol="wan"),
        dict(keys=[]),
        dict(keys=[b"x" * 31]),
        dict(keys=["zz" * 32]),
        dict(keys=b"x" * 32),
        dict(encrypt=True),
        dict(id=""),
        dict(seeds="127.0.0.1:1"),
        dict(seeds=[("127.0.0.1", "port")]),
    ]
    for kw in cases:
        with pytest.raises(shoal.InvalidArgumentError):
            Node.start("127.0.0.1:0", **kw)


def test_unbindable_addresses_raise_os_errors(nodes):
    a = nodes(id="a")
    with pytest.raises(OSError) as taken:
        Node.start(a.address)
    assert isinstance(taken.value, shoal.NetError)
    assert "in use" in str(taken.value)
    with pytest.raises(shoal.NetError):
        Node.start("192.0.2.1:0")  # TEST-NET-1: not an address of this host


def test_closed_node_raises_net_error_and_close_is_idempotent(nodes):
    with Node.start("127.0.0.1:0", id="short-lived") as n:
        assert not n.closed
        events = n.events()
    assert n.closed
    n.close()
    n.leave()
    calls = [
        n.members,
        n.local_member,
        lambda: n.locate("k"),
        n.placement_digest,
        n.membership_digest,
        n.status,
        lambda: n.update_meta(weight=2),
        n.events,
        n.events_async,
        n.stop_serving_routes,
        lambda: n.set_keys([bytes(32)]),
    ]
    for call in calls:
        with pytest.raises(shoal.NetError, match="closed"):
            call()
    # What was queued before the stop (its own "left") is still delivered, then the
    # subscription ends at once.
    t0 = time.monotonic()
    rest = list(events)
    assert time.monotonic() - t0 < 1
    assert all(e.member.id == "short-lived" for e in rest)
    assert events.closed and events.next_event(timeout=5) is None
    assert n.id == "short-lived" and "closed" in repr(n)
