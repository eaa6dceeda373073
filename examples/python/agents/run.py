"""Runs the multi-agent example: a bus, four agents that join by gossip, a moderator,
and a dispatcher (this process) that routes each topic to its owner on the ring.

Usage: python examples/python/agents/run.py [--bus NAME]

Ends by itself once every topic is answered (exit 0), or after ~25 s (exit 1); always
stops its processes, and the bus goes away with its last user.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shoal import Bus, Node, Router
from topics import AGENTS, PREFIX, TOPICS, VNODES, expected_ring

HERE = Path(__file__).resolve().parent
DEADLINE = 25.0


def spawn(script: str, *args: str, **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(HERE / script), *args], **kw)


def lines_of(proc: subprocess.Popen[str]) -> queue.Queue[str | None]:
    """A queue of `proc`'s stdout lines (None at the end), filled by a thread."""
    q: queue.Queue[str | None] = queue.Queue()
    assert proc.stdout is not None, "spawned with stdout=PIPE"
    out = proc.stdout

    def pump() -> None:
        for line in out:
            q.put(line.rstrip("\n"))
        q.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return q


def wait_for(what: str, ok: Callable[[], bool], until: float) -> None:
    while not ok():
        if time.monotonic() > until:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


def dispatch(bus: Bus, node: Node, moderator_lines: queue.Queue[str | None], until: float) -> None:
    """Routes every topic once the agents are placed; relays the moderator's lines
    until it is done."""
    ring = expected_ring()
    wait_for(
        "the four agents to join",
        lambda: node.placement_digest() == ring.layout_digest(),
        until,
    )
    print(f"dispatcher: {len(node.members())} members, one ring: {sorted(AGENTS)}")
    router = Router(bus, node, prefix=PREFIX)
    for n, topic in enumerate(TOPICS, 1):
        task = json.dumps({"n": n, "topic": topic}).encode()
        to = router.route(topic, task)
        print(f"dispatcher: topic {n} -> {to.owner}")
    router.flush(max(1.0, until - time.monotonic()))
    print(f"dispatcher: {router.stats()['acked']} topics acknowledged by their owners")
    while (line := moderator_lines.get(timeout=max(0.1, until - time.monotonic()))) is not None:
        print(line, flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--bus", default=f"agents-{os.getpid()}")
    a = p.parse_args()
    until = time.monotonic() + DEADLINE
    bus = Bus.create(a.bus)
    procs: list[subprocess.Popen[str]] = []
    try:
        moderator = spawn(
            "moderator.py", "--bus", a.bus, "--expect", str(len(TOPICS)),
            "--timeout", str(DEADLINE), stdout=subprocess.PIPE, text=True,
        )
        procs.append(moderator)
        moderator_lines = lines_of(moderator)
        if moderator_lines.get(timeout=10) != "ready":
            raise RuntimeError("the moderator did not start")
        with Node.start(id="dispatcher", role="dispatcher", weight=0, vnodes=VNODES) as node:
            for agent, weight in AGENTS.items():
                procs.append(spawn(
                    "agent.py", "--bus", a.bus, "--id", agent,
                    "--weight", str(weight), "--seed", node.address,
                ))
            dispatch(bus, node, moderator_lines, until)
        code = moderator.wait(timeout=max(1.0, until - time.monotonic()))
        print(f"run: all {len(TOPICS)} topics answered" if code == 0 else "run: moderator failed")
        return code
    except (TimeoutError, queue.Empty, RuntimeError) as e:
        print(f"run: {e}", file=sys.stderr)
        return 1
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        print("run: agents stopped")


if __name__ == "__main__":
    sys.exit(main())
