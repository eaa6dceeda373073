"""Round-trip latency between two Python processes: shoal's bus vs multiprocessing.Pipe
vs pyzmq (ipc://, PAIR, copy=False).

A parent and a child it spawns ping-pong one message at a time. Each message carries
an 8-byte sequence number (little-endian) at its start; the receiver checks it and
replies with a message of the same size carrying the same number.

* shoal: ``loan(size)`` -> write the number into the loan -> ``send``; the peer
  ``recv``s a view of the same shared memory, checks the number, releases the view and
  replies with a loan of its own. No byte of the payload is copied.
* Pipe: ``send_bytes`` of a preallocated buffer, ``recv_bytes`` on the other side.
* pyzmq: ``send(buffer, copy=False)`` / ``recv(copy=False)`` on PAIR sockets over
  ``ipc://`` (skipped with a note if ``import zmq`` fails).

Reproduce (from the repository root, after ``maturin develop --release``)::

    .venv/bin/python bindings-python/bench/roundtrip.py

Options: ``--small N`` / ``--large N`` round trips measured for 64 B / 1 MiB (default
20000 / 2000, after a warm-up of a tenth as many), ``--only shoal,pipe,zmq``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import struct
import sys
import time

SEQ = struct.Struct("<Q")
SIZES = {"64 B": 64, "1 MiB": 1 << 20}


def percentile(sorted_values: list[float], p: float) -> float:
    i = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[i]


# --- shoal --------------------------------------------------------------------------


def shoal_child(bus_name: str, size: int, total: int) -> None:
    import shoal._native as native

    bus = native.Bus.open(bus_name)
    rx = bus.endpoint("child")
    tx = bus.sender("parent", timeout=30)
    pack, unpack = SEQ.pack_into, SEQ.unpack_from
    recv, loan, send = rx.recv, tx.loan, tx.send
    for i in range(total):
        m = recv(30)
        seq = unpack(m)[0]
        if seq != i:
            raise SystemExit(f"child: expected {i}, got {seq}")
        del m
        v = loan(size)
        pack(v, 0, seq)
        send(v)
    rx.close()
    tx.close()


def shoal_parent(size: int, warmup: int, count: int) -> list[float]:
    import shoal._native as native

    name = f"bench-rt-{os.getpid()}-{size}"
    bus = native.Bus.create(name)
    rx = bus.endpoint("parent")
    child = mp.get_context("spawn").Process(
        target=shoal_child, args=(name, size, warmup + count)
    )
    child.start()
    try:
        tx = bus.sender("child", timeout=30)
        pack, unpack = SEQ.pack_into, SEQ.unpack_from
        recv, loan, send = rx.recv, tx.loan, tx.send
        clock = time.perf_counter_ns
        out = [0.0] * count
        for i in range(warmup + count):
            t0 = clock()
            v = loan(size)
            pack(v, 0, i)
            send(v)
            m = recv(30)
            seq = unpack(m)[0]
            del m
            t1 = clock()
            if seq != i:
                raise SystemExit(f"parent: expected {i}, got {seq}")
            if i >= warmup:
                out[i - warmup] = (t1 - t0) / 1000
        child.join(30)
        tx.close()
        rx.close()
        return out
    finally:
        if child.is_alive():
            child.kill()
        child.join()


# --- multiprocessing.Pipe -----------------------------------------------------------


def pipe_child(conn, size: int, total: int) -> None:
    buf = bytearray(size)
    pack, unpack = SEQ.pack_into, SEQ.unpack_from
    for i in range(total):
        data = conn.recv_bytes()
        seq = unpack(data)[0]
        if seq != i:
            raise SystemExit(f"child: expected {i}, got {seq}")
        pack(buf, 0, seq)
        conn.send_bytes(buf)


def pipe_parent(size: int, warmup: int, count: int) -> list[float]:
    ctx = mp.get_context("spawn")
    a, b = ctx.Pipe(duplex=True)
    child = ctx.Process(target=pipe_child, args=(b, size, warmup + count))
    child.start()
    try:
        buf = bytearray(size)
        pack, unpack = SEQ.pack_into, SEQ.unpack_from
        clock = time.perf_counter_ns
        out = [0.0] * count
        for i in range(warmup + count):
            t0 = clock()
            pack(buf, 0, i)
            a.send_bytes(buf)
            data = a.recv_bytes()
            seq = unpack(data)[0]
            t1 = clock()
            if seq != i:
                raise SystemExit(f"parent: expected {i}, got {seq}")
            if i >= warmup:
                out[i - warmup] = (t1 - t0) / 1000
        child.join(30)
        return out
    finally:
        if child.is_alive():
            child.kill()
        child.join()


# --- pyzmq --------------------------------------------------------------------------


def zmq_child(address: str, size: int, total: int) -> None:
    import zmq

    ctx = zmq.Context()
    sock = ctx.socket(zmq.PAIR)
    sock.connect(address)
    buf = bytearray(size)
    pack, unpack = SEQ.pack_into, SEQ.unpack_from
    for i in range(total):
        frame = sock.recv(copy=False)
        seq = unpack(frame.buffer)[0]
        if seq != i:
            raise SystemExit(f"child: expected {i}, got {seq}")
        del frame
        pack(buf, 0, seq)
        sock.send(buf, copy=False)
    sock.close(linger=1000)
    ctx.term()


def zmq_parent(size: int, warmup: int, count: int) -> list[float]:
    import zmq

    path = f"/tmp/shoal-bench-{os.getpid()}.ipc"
    address = f"ipc://{path}"
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PAIR)
    sock.bind(address)
    child = mp.get_context("spawn").Process(
        target=zmq_child, args=(address, size, warmup + count)
    )
    child.start()
    try:
        buf = bytearray(size)
        pack, unpack = SEQ.pack_into, SEQ.unpack_from
        clock = time.perf_counter_ns
        out = [0.0] * count
        for i in range(warmup + count):
            t0 = clock()
            pack(buf, 0, i)
            sock.send(buf, copy=False)
            frame = sock.recv(copy=False)
            seq = unpack(frame.buffer)[0]
            del frame
            t1 = clock()
            if seq != i:
                raise SystemExit(f"parent: expected {i}, got {seq}")
            if i >= warmup:
                out[i - warmup] = (t1 - t0) / 1000
        child.join(30)
        return out
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        sock.close(linger=0)
        ctx.term()
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


# --- main ---------------------------------------------------------------------------

TRANSPORTS = {
    "shoal": ("shoal bus", shoal_parent),
    "pipe": ("mp.Pipe", pipe_parent),
    "zmq": ("pyzmq ipc", zmq_parent),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=20_000, help="64 B round trips")
    parser.add_argument("--large", type=int, default=2_000, help="1 MiB round trips")
    parser.add_argument("--only", default="shoal,pipe,zmq", help="comma-separated")
    args = parser.parse_args()

    chosen = [t.strip() for t in args.only.split(",") if t.strip()]
    notes = []
    if "zmq" in chosen:
        try:
            import zmq  # noqa: F401
        except ImportError as e:
            chosen.remove("zmq")
            notes.append(f"pyzmq column skipped: import zmq failed ({e})")

    results: dict[tuple[str, str], tuple[float, float, float]] = {}
    for label, size in SIZES.items():
        count = args.small if size == 64 else args.large
        warmup = max(100, count // 10)
        for t in chosen:
            name, run = TRANSPORTS[t]
            lat = sorted(run(size, warmup, count))
            results[(t, label)] = (
                percentile(lat, 50),
                percentile(lat, 90),
                percentile(lat, 99),
            )
            p50, p90, p99 = results[(t, label)]
            print(
                f"  measured {name:<10} {label:>6}: p50 {p50:9.1f} µs  p90 {p90:9.1f} µs"
                f"  p99 {p99:9.1f} µs  ({count} round trips)",
                file=sys.stderr,
            )

    print()
    print(
        f"Round trip between two Python processes (µs; ratio = p50 / shoal's p50), "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    header = f"{'size':>6}  {'transport':<10} {'p50':>9} {'p90':>9} {'p99':>9} {'x shoal':>8}"
    print(header)
    print("-" * len(header))
    for label in SIZES:
        base = results.get(("shoal", label))
        for t in chosen:
            p50, p90, p99 = results[(t, label)]
            ratio = f"{p50 / base[0]:.1f}" if base else "-"
            print(
                f"{label:>6}  {TRANSPORTS[t][0]:<10} {p50:9.1f} {p90:9.1f} {p99:9.1f} {ratio:>8}"
            )
    for n in notes:
        print(f"note: {n}")
    print()
    print("reproduce: .venv/bin/python bindings-python/bench/roundtrip.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
