"""The multi-agent example (examples/python/agents) runs end to end: every topic is
answered once, by its owner on the ring, and the run leaves no process or bus behind.

Bounded: the run is killed after 60 s.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "python" / "agents"

POST = re.compile(r'^\[forum\] (\d+)/(\d+) (\S+) on topic (\d+) "(.*)": (.*)$', re.M)
ROUTED = re.compile(r"^dispatcher: topic (\d+) -> (\S+)$", re.M)


def load_topics():
    spec = importlib.util.spec_from_file_location("agents_topics", EXAMPLE / "topics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains `text`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_every_topic_is_answered_by_its_owner_on_the_ring():
    topics = load_topics()
    name = f"test-agents-{os.getpid()}"
    t0 = time.monotonic()
    run = subprocess.run(
        [sys.executable, str(EXAMPLE / "run.py"), "--bus", name],
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - t0
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    assert elapsed < 30

    ring = topics.expected_ring()
    owners = {t: ring.locate(t) for t in topics.TOPICS}
    assert set(owners.values()) == set(topics.AGENTS), "every agent gets a topic"

    routed = {int(n): owner for n, owner in ROUTED.findall(run.stdout)}
    assert routed == {n: owners[t] for n, t in enumerate(topics.TOPICS, 1)}

    posts = POST.findall(run.stdout)
    assert len(posts) == len(topics.TOPICS), run.stdout
    answered = {}
    for seen, total, author, n, topic, text in posts:
        assert int(total) == len(topics.TOPICS)
        assert topic == topics.TOPICS[int(n) - 1]
        assert author == owners[topic], f"{topic!r} answered by {author}, owner {owners[topic]}"
        assert text == topics.analyse(author, topic)
        answered[topic] = author
    assert sorted(answered) == sorted(topics.TOPICS)
    assert f"all {len(topics.TOPICS)} topics answered" in run.stdout

    assert processes_mentioning(name) == [], "agent or moderator processes left running"
    assert [f for f in os.listdir("/dev/shm") if name in f] == [], "bus segment left behind"
