"""The zero-copy shared-memory bus from Python: loans and messages as memoryviews over
shared memory, pub/sub, errors, threads and signals, two processes, and kill -9.

Every wait is bounded (timeouts on receives, on the peer's output and on its exit);
every peer process is killed at the end of its test; the `bus_name` fixture checks
that no shared memory is left behind."""

import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import shoal
from shoal import _native as native

Bus = native.Bus
PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bus_peer.py")
SEQ = struct.Struct("<Q")


def address(buf) -> int:
    """The address of the first byte of a buffer (through numpy, which exports it)."""
    return np.frombuffer(buf, dtype=np.uint8).__array_interface__["data"][0]


def mappings(bus_name: str) -> list[tuple[int, int]]:
    """Address ranges where this process maps the segment of bus `bus_name`."""
    path = f"/dev/shm/shoal-{bus_name}"
    out = []
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].strip() == path:
                lo, hi = (int(x, 16) for x in fields[0].split("-"))
                out.append((lo, hi))
    return out


class Peer:
    """A `bus_peer.py` process; every wait on it is bounded."""

    def __init__(self, *args: str):
        self.proc = subprocess.Popen(
            [sys.executable, PEER, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.pending = b""

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        return self.proc.stderr.read().decode(errors="replace")

    def expect(self, prefix: str, timeout: float = 20.0) -> str:
        """Waits for the next stdout line, which must start with `prefix`."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"peer did not say {prefix!r} within {timeout} s")
            ready, _, _ = select.select([self.proc.stdout], [], [], remaining)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    self.proc.wait(5)
                    raise AssertionError(
                        f"peer exited ({self.proc.returncode}) before {prefix!r}: "
                        f"{self.stderr()}"
                    )
                self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        text = line.decode()
        assert text.startswith(prefix), f"peer said {text!r}, expected {prefix!r}"
        return text

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        assert self.proc.returncode == -signal.SIGKILL

    def wait_success(self, timeout: float = 30.0) -> None:
        rc = self.proc.wait(timeout)
        assert rc == 0, f"peer failed ({rc}): {self.stderr()}"

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def peers():
    """Spawns peers (`peers(role, *args)`) and kills whatever is left of them."""
    started = []

    def spawn(*args: str) -> Peer:
        p = Peer(*args)
        started.append(p)
        return p

    yield spawn
    for p in started:
        p.close()


# --- one process ----------------------------------------------------------------------


def test_round_trip_in_one_process(bus_name):
    with Bus.create(bus_name, pool="small") as bus:
        assert bus.name == bus_name
        rx = bus.endpoint("inbox")
        tx = bus.sender("inbox")
        assert (rx.name, tx.endpoint) == ("inbox", "inbox")
        tx.send_copy(b"hello")
        tx.send_copy(bytearray(b"from a bytearray"))
        tx.send_copy(np.arange(4, dtype=np.uint32))
        m = rx.recv(timeout=5)
        assert isinstance(m, memoryview)
        assert bytes(m) == b"hello"
        assert len(m) == 5 and m.obj.offset >= 0
        with rx.recv(timeout=5) as m2:
            assert bytes(m2) == b"from a bytearray"
        with pytest.raises(ValueError):
            m2[0]  # released at the end of the `with` block
        with rx.recv(timeout=5) as m3:
            assert np.array_equal(np.frombuffer(m3, dtype=np.uint32), np.arange(4))
        assert bus.stats().allocated_slots == 1  # `m` still holds its slot
        del m
        assert bus.stats().allocated_slots == 0
        assert rx.try_recv() is None
        # Iterating receives, blocking for each message.
        for i in range(3):
            tx.send_copy(b"it%d" % i)
        got = []
        for m in rx:
            got.append(bytes(m))
            if len(got) == 3:
                break
        assert got == [b"it0", b"it1", b"it2"]


def test_loan_send_recv_content(bus_name):
    with Bus.create(bus_name, pool="small") as bus:
        rx = bus.endpoint("e")
        tx = bus.sender("e")
        view = tx.loan(300)
        assert isinstance(view, memoryview)
        assert len(view) == 300 and not view.readonly
        assert view.obj.capacity >= 300
        view[:] = bytes(range(256)) + bytes(44)
        tx.send(view)
        with rx.recv(timeout=5) as m:
            assert bytes(m) == bytes(range(256)) + bytes(44)
        # `length` sends a prefix; the loan object itself can be sent too.
        view = tx.loan(100)
        view[:3] = b"abc"
        tx.send(view, length=3)
        loan = tx.loan(10)
        loan[:] = b"0123456789"
        with pytest.raises(shoal.InvalidArgumentError, match="exported"):
            tx.send(loan.obj)
        tx.send(loan)
        with rx.recv(timeout=5) as m:
            assert bytes(m) == b"abc"
        with rx.recv(timeout=5) as m:
            assert bytes(m) == b"0123456789"
        with pytest.raises(shoal.InvalidArgumentError, match="more than"):
            tx.send(tx.loan(4), length=5)
        assert bus.stats().allocated_slots == 0


def test_try_recv_is_none_when_empty_and_recv_times_out(bus_name):
    with Bus.create(bus_name, pool="small") as bus:
        rx = bus.endpoint("e")
        assert rx.try_recv() is None
        start = time.monotonic()
        with pytest.raises(shoal.TimeoutError) as e:
            rx.recv(timeout=0.2)
        assert time.monotonic() - start >= 0.19
        assert isinstance(e.value, TimeoutError)  # the built-in
        assert isinstance(e.value, shoal.ShoalError)
        with pytest.raises(TimeoutError):
            rx.recv(timeout=0)


def test_zero_copy_the_receiver_reads_the_loaned_memory(bus_name):
    with Bus.create(bus_name, pool="small") as bus:
        rx = bus.endpoint("e")
        tx = bus.sender("e")
        view = tx.loan(64)
        sent_at = address(view)
        offset = view.obj.offset
        view[:8] = b"in place"
        tx.send(view)
        with pytest.raises(ValueError):
            view[0] = 1  # a sent loan's view is released
        with pytest.raises(ValueError):
            bytes(view)

        m = rx.recv(timeout=5)
        assert address(m) == sent_at, "the message is the loaned memory, not a copy"
        assert m.obj.offset == offset
        ranges = mappings(bus_name)
        assert ranges, "the bus segment is mapped"
        assert any(lo <= sent_at and sent_at + 64 <= hi for lo, hi in ranges)
        assert m.readonly
        with pytest.raises(TypeError):
            m[0] = 1
        with pytest.raises((TypeError, ValueError)):
            np.frombuffer(m, dtype=np.uint8)[0] = 1
        assert bytes(m[:8]) == b"in place"
        del m


def test_send_refuses_while_numpy_still_exports_the_loan(bus_name):
    with Bus.create(bus_name, pool="small") as bus:
        rx = bus.endpoint("e")
        tx = bus.sender("e")
        for make in (lambda v: np.frombuffer(v, dtype=np.uint8),
                     lambda v: np.frombuffer(v.obj, dtype=np.uint8),
                     lambda v: memoryview(v.obj)):
            view = tx.loan(16)
            arr = make(view)
            arr[:] = b"\x07" * 16 if isinstance(arr, memoryview) else 7
            with pytest.raises(shoal.InvalidArgumentError, match="delete") as e:
                tx.send(view)
            assert isinstance(e.value, ValueError)
            assert rx.try_recv() is None, "nothing was sent"
            retry = e.value.loan  # a usable view of the unsent loan
            del e
            with pytest.raises(shoal.InvalidArgumentError):
                tx.send(retry)  # `arr` is still alive
            del arr
            tx.send(retry)
            with rx.recv(timeout=5) as m:
                assert bytes(m) == b"\x07" * 16
        # A slice is not the loan's view: refused before anything is released.
        view = tx.loan(16)
        with pytest.raises(shoal.InvalidArgumentError, match="length=n"):
            tx.send(view[:4])
        view[0] = 1  # still usable
        tx.send(view, length=4)
        with rx.recv(timeout=5) as m:
            assert len(m) == 4
        with pytest.raises(shoal.InvalidArgumentError, match="loan"):
            tx.send(b"not a loan")
        assert bus.stats().allocated_slots == 0


def test_numpy_reads_and_writes_through_the_buffer_protocol(bus_name):
    with Bus.create(bus_name, pool="small") as bus:
        rx = bus.endpoint("e")
        tx = bus.sender("e")
        view = tx.loan(8 * 100)
        out = np.frombuffer(view, dtype=np.float64)
        out[:] = np.linspace(0.0, 1.0, 100)
        del out
        tx.send(view)
        m = rx.recv(timeout=5)
        arr = np.frombuffer(m, dtype=np.float64)
        assert not arr.flags.writeable
        assert np.array_equal(arr, np.linspace(0.0, 1.0, 100))
        del m  # the array keeps the slot alive
        assert bus.stats().allocated_slots == 1
        assert arr.sum() == pytest.approx(50.0)
        del arr
        assert bus.stats().allocated_slots == 0


def test_an_unsent_loan_gives_its_slot_back_when_collected(bus_name):
    with Bus.create(bus_name, pool="small") as bus:
        tx = bus.publisher("t")
        views = [tx.loan(100) for _ in range(5)]
        assert bus.stats().allocated_slots == 5
        views.pop()
        assert bus.stats().allocated_slots == 4
        loan = views[0].obj
        views.clear()
        assert bus.stats().allocated_slots == 1, "the loan object still owns its slot"
        del loan
        assert bus.stats().allocated_slots == 0


def test_messages_larger_than_the_pool_use_a_dedicated_segment(bus_name):
    with Bus.create(bus_name, pool="small") as bus:
        rx = bus.endpoint("e")
        tx = bus.sender("e")
        payload = os.urandom(3 << 20)
        view = tx.loan(len(payload))
        view[:] = payload
        at = address(view)
        tx.send(view)
        with rx.recv(timeout=5) as m:
            assert address(m) == at
            assert bytes(m) == payload


def test_publish_reaches_two_subscribers_with_the_same_bytes(bus_name):
    with Bus.create(bus_name, pool="small") as bus:
        pub = bus.publisher("news")
        assert pub.publish_copy(b"nobody listens") == 0
        a = bus.subscribe("news")
        b = bus.subscribe("news")
        assert a.subscription and a.name == "news"
        assert pub.subscriber_count() == 2
        assert pub.publish_copy(b"copy") == 2
        view = pub.loan(32)
        view[:] = b"x" * 32
        at = address(view)
        assert pub.publish(view) == 2
        for rx in (a, b):
            with rx.recv(timeout=5) as m:
                assert bytes(m) == b"copy"
        ma, mb = a.recv(timeout=5), b.recv(timeout=5)
        assert address(ma) == address(mb) == at, "written once, read by both"
        assert bytes(ma) == bytes(mb) == b"x" * 32
        del ma
        assert bus.stats().allocated_slots == 1, "still referenced by the other subscriber"
        del mb
        assert bus.stats().allocated_slots == 0
        b.close()
        assert pub.publish_copy(b"one left") == 1


def test_backpressure_policies(bus_name):
    with Bus.create(bus_name, pool="small", lane_capacity=4) as bus:
        rx = bus.endpoint("strict", backpressure="error")
        tx = bus.sender("strict")
        for i in range(4):
            tx.send_copy(bytes([i]))
        with pytest.raises(shoal.BusFullError) as e:
            tx.send_copy(b"one too many")
        assert isinstance(e.value, BlockingIOError)
        view = tx.loan(3)
        view[:] = b"late"[:3]
        with pytest.raises(shoal.BusFullError) as e:
            tx.send(view)
        retry = e.value.loan
        del e
        assert [bytes(rx.recv(timeout=5)) for _ in range(4)] == [b"\0", b"\1", b"\2", b"\3"]
        tx.send(retry)  # the failed send's loan, handed back
        assert bytes(rx.recv(timeout=5)) == b"lat"

        lossy = bus.endpoint("lossy", backpressure="drop_oldest")
        tx2 = bus.sender("lossy")
        for i in range(6):
            tx2.send_copy(bytes([i]))
        assert bus.stats().dropped == 2
        assert [bytes(lossy.recv(timeout=5)) for _ in range(4)] == [b"\2", b"\3", b"\4", b"\5"]


def test_errors_subclass_builtins(bus_name):
    with pytest.raises(shoal.BusNotFoundError) as e:
        Bus.open(bus_name)
    assert isinstance(e.value, FileNotFoundError)
    bus = Bus.create(bus_name, pool="small")
    with pytest.raises(shoal.BusExistsError) as e:
        Bus.create(bus_name, pool="small")
    assert isinstance(e.value, FileExistsError)
    for bad in ("", "a/b", ".hidden", "x" * 300, "sp ace"):
        with pytest.raises(ValueError):
            Bus.create(bad)
        with pytest.raises(ValueError):
            Bus.open(bad)
    with pytest.raises(ValueError):
        bus.endpoint("bad name!")
    rx = bus.endpoint("e")
    with pytest.raises(FileExistsError):
        bus.endpoint("e")
    with pytest.raises(shoal.BusNotFoundError):
        bus.sender("nobody")
    start = time.monotonic()
    with pytest.raises(FileNotFoundError):
        bus.sender("nobody", timeout=0.2)
    assert time.monotonic() - start >= 0.19
    for kwargs in ({"backpressure": "sometimes"}, {"wait": "forever"},
                   {"wait": "spin", "spins": 10}):
        with pytest.raises(ValueError):
            bus.endpoint("f", **kwargs)
    for kwargs in ({"pool": "huge"}, {"lane_capacity": 3}, {"max_lanes": -1}):
        with pytest.raises(ValueError):
            Bus.create(bus_name + "-x", **kwargs)
    tx = bus.sender("e")
    with pytest.raises(ValueError):
        tx.loan(-1)
    with pytest.raises(ValueError):
        rx.recv(timeout=-1)
    with pytest.raises(ValueError):
        tx.send_copy(12)
    rx.close()
    with pytest.raises(shoal.EndpointGoneError) as e:
        tx.send_copy(b"x")
    assert isinstance(e.value, BrokenPipeError)
    with pytest.raises(shoal.BusError, match="closed"):
        rx.recv(timeout=1)
    tx.close()
    with pytest.raises(shoal.BusError, match="closed"):
        tx.loan(1)
    bus.close()
    assert bus.closed
    with pytest.raises(shoal.BusError, match="closed"):
        bus.endpoint("g")
    with pytest.raises(shoal.BusError, match="closed"):
        bus.stats()
    with pytest.raises(shoal.BusError):
        with bus:
            pass


# --- threads and signals ----------------------------------------------------------------


def test_recv_releases_the_gil_and_answers_signals(bus_name):
    with Bus.create(bus_name, pool="small") as bus:
        rx = bus.endpoint("e")
        ticks = 0
        stop = threading.Event()

        def count():
            nonlocal ticks
            while not stop.is_set():
                ticks += 1

        t = threading.Thread(target=count)
        t.start()
        try:
            before = ticks
            with pytest.raises(TimeoutError):
                rx.recv(timeout=0.3)
            assert ticks - before > 1000, "another thread ran while recv waited"
        finally:
            stop.set()
            t.join(5)

        class Interrupted(Exception):
            pass

        def on_alarm(signum, frame):
            raise Interrupted

        old = signal.signal(signal.SIGALRM, on_alarm)
        try:
            signal.setitimer(signal.ITIMER_REAL, 0.2)
            start = time.monotonic()
            with pytest.raises(Interrupted):
                rx.recv()  # no timeout: only the signal ends it
            assert time.monotonic() - start < 2.0
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


def test_threads_share_a_receiver_and_a_sender(bus_name):
    with Bus.create(bus_name, pool="small") as bus:
        rx = bus.endpoint("e")
        tx = bus.sender("e")
        got, errors = [], []

        def consume():
            try:
                while True:
                    try:
                        with rx.recv(timeout=1.0) as m:
                            got.append(bytes(m))
                    except shoal.TimeoutError:
                        return
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        def produce(base):
            try:
                for i in range(200):
                    tx.send_copy((base + i).to_bytes(4, "little"))
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=consume) for _ in range(3)]
        threads += [threading.Thread(target=produce, args=(k * 1000,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not any(t.is_alive() for t in threads)
        assert errors == []
        expected = [(k * 1000 + i).to_bytes(4, "little") for k in range(2) for i in range(200)]
        assert sorted(got) == sorted(expected)


def test_another_thread_waits_for_a_blocked_receiver_and_close_wakes_it(bus_name):
    with Bus.create(bus_name, pool="small") as bus:
        rx = bus.endpoint("e")
        outcome = []

        def wait_forever():
            try:
                rx.recv()
            except Exception as e:
                outcome.append(e)

        t = threading.Thread(target=wait_forever)
        t.start()
        time.sleep(0.1)
        start = time.monotonic()
        assert rx.try_recv() is None  # waits its turn, no "already borrowed"
        assert time.monotonic() - start < 1.0
        rx.close()
        t.join(5)
        assert not t.is_alive()
        assert len(outcome) == 1 and isinstance(outcome[0], shoal.BusError)
        assert "closed" in str(outcome[0])


# --- two processes ------------------------------------------------------------------------


def test_two_processes_exchange_messages(bus_name, peers):
    bus = Bus.create(bus_name)
    back = bus.endpoint("back")
    peer = peers("echo", bus_name, "in", "back")
    peer.expect("ready")
    tx = bus.sender("in", timeout=10)
    for size in (1, 64, 1000, 65536, 1 << 20, 3 << 20):
        payload = os.urandom(size)
        view = tx.loan(size)
        view[:] = payload
        tx.send(view)
        with back.recv(timeout=10) as m:
            assert bytes(m) == payload
    tx.send_copy(b"stop")
    peer.wait_success()

    peer = peers("send", bus_name, "back", "300", "1000")
    peer.expect("ready")
    for i in range(300):
        with back.recv(timeout=10) as m:
            assert len(m) == 1000
            assert SEQ.unpack_from(m)[0] == i
            assert bytes(m[8:]) == bytes([i % 256]) * 992
    peer.expect("sent 300")
    peer.wait_success()
    assert back.try_recv() is None


def test_kill_9_of_a_process_holding_buffers_returns_them_all(bus_name, peers):
    bus = Bus.create(bus_name, pool="small")
    peer = peers("hold", bus_name, "h", "5")
    peer.expect("ready")
    tx = bus.sender("h", timeout=10)
    for i in range(3):
        tx.send_copy(bytes([i]) * 40)
        peer.expect(f"holding {i + 1}")
    before = bus.stats()
    assert before.allocated_slots == 8 and before.processes == 2
    peer.kill9()
    report = bus.reclaim()
    assert report.dead_processes == 1
    assert report.reclaimed_slots == 8
    assert report.endpoints_closed == 1
    after = bus.stats()
    assert after.allocated_slots == 0, "pool capacity back to 100 %"
    assert after.processes == 1
    assert after.reclaimed == 8 and after.repairs >= 1
    # The survivor learns the consumer is gone; the name can be taken again.
    with pytest.raises(shoal.EndpointGoneError):
        tx.send_copy(b"x")
    rx = bus.endpoint("h")
    tx = bus.sender("h")
    tx.send_copy(b"alive")
    with rx.recv(timeout=5) as m:
        assert bytes(m) == b"alive"


def test_kill_9_of_a_producer_mid_stream_wedges_nobody(bus_name, peers):
    bus = Bus.create(bus_name, pool="small")
    rx = bus.endpoint("f")
    peer = peers("flood", bus_name, "f")
    peer.expect("ready")
    last = None
    for _ in range(5000):
        with rx.recv(timeout=10) as m:
            seq = SEQ.unpack_from(m)[0]
        if last is not None:
            assert seq == last + 1
        last = seq
    peer.expect("flowing")
    peer.kill9()
    # Whatever it sent before dying is still delivered, in order.
    while (m := rx.try_recv()) is not None:
        with m:
            seq = SEQ.unpack_from(m)[0]
        assert seq == last + 1
        last = seq
    report = bus.reclaim()
    assert report.dead_processes == 1
    stats = bus.stats()
    assert stats.allocated_slots == 0, "a half-made send leaks nothing"
    assert stats.processes == 1
    tx = bus.sender("f")
    tx.send_copy(b"next")
    with rx.recv(timeout=5) as m:
        assert bytes(m) == b"next"
