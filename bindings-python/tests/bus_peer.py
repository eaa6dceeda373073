"""A second process for the bus tests in test_bus.py.

``python bus_peer.py ROLE BUS [ARGS...]``. Every role prints ``ready`` once attached,
reports on stdout (one line per event, flushed), and exits by itself within
``DEADLINE`` seconds (tests kill it sooner).

* ``echo BUS IN OUT`` - consumes endpoint IN and sends every message back to OUT in a
  loan of the same size (a copy of its bytes), until a message equal to ``b"stop"``.
* ``send BUS TO COUNT SIZE`` - sends COUNT loaned messages of SIZE bytes: message i is
  filled with the byte ``i % 256`` and starts with i (u64, little-endian) if SIZE >= 8;
  prints ``sent COUNT``.
* ``hold BUS EP LOANS`` - loans LOANS buffers of 100 bytes and keeps them, consumes
  endpoint EP, then keeps every message it receives, printing ``holding K`` after the
  K-th; sleeps (to be killed).
* ``flood BUS TO`` - sends 64-byte messages numbered 0, 1, 2, ... (u64 at the start)
  to TO as fast as it can, printing ``flowing`` after the first 1000, until killed.
"""

import struct
import sys
import time

from shoal import _native as native

DEADLINE = 60.0
SEQ = struct.Struct("<Q")


def say(line: str) -> None:
    print(line, flush=True)


def main(argv: list[str]) -> int:
    role, bus_name = argv[1], argv[2]
    bus = native.Bus.open(bus_name)
    start = time.monotonic()

    def left() -> float:
        return max(0.0, DEADLINE - (time.monotonic() - start))

    if role == "echo":
        rx = bus.endpoint(argv[3])
        say("ready")
        tx = bus.sender(argv[4], timeout=10)
        while True:
            with rx.recv(timeout=left()) as m:
                if m == b"stop":
                    return 0
                v = tx.loan(len(m))
                v[:] = m
            tx.send(v)
    if role == "send":
        tx = bus.sender(argv[3], timeout=10)
        say("ready")
        count, size = int(argv[4]), int(argv[5])
        for i in range(count):
            v = tx.loan(size)
            v[:] = bytes([i % 256]) * size
            if size >= 8:
                SEQ.pack_into(v, 0, i)
            tx.send(v)
        say(f"sent {count}")
        return 0
    if role == "hold":
        loans = [bus.loan(100) for _ in range(int(argv[4]))]
        rx = bus.endpoint(argv[3])
        say("ready")
        held = []
        while left() > 0:
            try:
                held.append(rx.recv(timeout=min(1.0, left())))
            except TimeoutError:
                continue
            say(f"holding {len(held)}")
        return 0
    if role == "flood":
        tx = bus.sender(argv[3], timeout=10)
        say("ready")
        i = 0
        while left() > 0:
            v = tx.loan(64)
            SEQ.pack_into(v, 0, i)
            tx.send(v)
            i += 1
            if i == 1000:
                say("flowing")
        return 0
    print(f"unknown role {role!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
