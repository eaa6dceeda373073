"""The moderator process: subscribes to the forum topic and prints every post with its
author, until it has seen ``--expect`` posts (exit 0) or ``--timeout`` seconds pass
(exit 1). Prints ``ready`` first, once subscribed.

Usage: python moderator.py --bus NAME --expect 6
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import shoal
from shoal import Bus
from topics import FORUM


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--bus", required=True)
    p.add_argument("--expect", type=int, required=True)
    p.add_argument("--timeout", type=float, default=20.0)
    a = p.parse_args()

    bus = Bus.open(a.bus)
    posts = bus.subscribe(FORUM)
    print("ready", flush=True)
    deadline = time.monotonic() + a.timeout
    seen = 0
    while seen < a.expect and time.monotonic() < deadline:
        try:
            post = json.loads(bytes(posts.recv(timeout=0.2)))
        except shoal.TimeoutError:
            continue
        seen += 1
        print(
            f"[forum] {seen}/{a.expect} {post['author']} on topic {post['n']} "
            f"\"{post['topic']}\": {post['text']}",
            flush=True,
        )
    if seen < a.expect:
        print(f"moderator: only {seen} of {a.expect} posts in time", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
