"""Fixtures shared by the bus tests: a unique bus name per test, and a check that the
test left no shared-memory segment of that name behind."""

import gc
import itertools
import os
import time

import pytest

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
