"""A Python process on the same bus as the Node tests (bus_python.test.js).

``python bus_python_peer.py ROLE BUS [ARGS...]``; prints ``ready`` once attached,
one line per event, and exits by itself within DEADLINE seconds.

* ``echo BUS IN OUT`` - consumes endpoint IN and sends every message back to OUT,
  reversed, in a loan of the same size, until a message equal to ``b"stop"``.
* ``send BUS TO COUNT`` - sends COUNT messages ``python <i>`` (UTF-8) in loans.
"""

import sys
import time

import shoal

DEADLINE = 60.0


def say(line: str) -> None:
    print(line, flush=True)


def main(argv: list[str]) -> int:
    role, bus_name = argv[1], argv[2]
    bus = shoal.Bus.open(bus_name)
    start = time.monotonic()

    def left() -> float:
        return max(0.001, DEADLINE - (time.monotonic() - start))

    if role == "echo":
        rx = bus.endpoint(argv[3])
        say("ready")
        tx = bus.sender(argv[4], timeout=10)
        while True:
            with rx.recv(timeout=left()) as m:
                data = bytes(m)
            if data == b"stop":
                return 0
            v = tx.loan(len(data))
            v[:] = data[::-1]
            tx.send(v)
    if role == "send":
        tx = bus.sender(argv[3], timeout=10)
        say("ready")
        count = int(argv[4])
        for i in range(count):
            data = f"python {i}".encode()
            v = tx.loan(len(data))
            v[:] = data
            tx.send(v)
        say(f"sent {count}")
        return 0
    raise SystemExit(f"unknown role {role}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
