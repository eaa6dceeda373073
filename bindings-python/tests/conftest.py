"""Fixtures shared by the tests: a unique bus name per test (and a check that the test
left no shared-memory segment of that name behind), nodes closed after their test, and
a 60 s bound for the node and router tests."""

import faulthandler
import gc
import itertools
import os
import threading
import time

import pytest

from shoal import Node

_counter = itertools.count()


def bus_segments(name: str) -> list[str]:
    """The /dev/shm entries of bus `name`: its segment and its large-message segments."""
    try:
        entries = os.listdir("/dev/shm")
    except FileNotFoundError:
        return []
    base = f"shoal-{name}"
    return sorted(e for e in entries if e == base or e.startswith(base + ".L"))


@pytest.fixture
def bus_name():
    """A bus name no other test (or test run) uses; after the test, every segment of
    that name must be gone (the last user of a bus removes it)."""
    name = f"pytest-{os.getpid()}-{next(_counter)}"
    yield name
    # Objects of a failed test can sit in a traceback or a reference cycle.
    deadline = time.monotonic() + 5
    while bus_segments(name) and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.01)
    assert bus_segments(name) == [], f"shared memory left behind by {name}"


@pytest.fixture
def deadline():
    """Aborts the run with every thread's traceback if the test takes over 60 s."""
    faulthandler.dump_traceback_later(60, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def nodes():
    """Starts nodes with `start(...)` on 127.0.0.1 port 0; closes them all after the
    test."""
    started = []

    def start(**kw):
        n = Node.start("127.0.0.1:0", **kw)
        started.append(n)
        return n

    yield start
    # Each close waits out a short leave grace period (GIL released): in parallel.
    closers = [threading.Thread(target=n.close) for n in started]
    for t in closers:
        t.start()
    for t in closers:
        t.join()
