"""Helpers shared by the test modules (fixtures live in conftest.py)."""

import time
from collections.abc import Callable


def eventually(what: str, ok: Callable[[], object], timeout: float = 10.0) -> None:
    """Polls `ok()` until it is true; fails after `timeout` seconds."""
    end = time.monotonic() + timeout
    while not ok():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)
