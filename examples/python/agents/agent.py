"""One agent process: joins the cluster by gossip, takes the topics it owns from its
bus endpoint, answers each and posts the answer to the forum topic.

Usage: python agent.py --bus NAME --id QueryEngine --weight 100 --seed IP:PORT
Stops on SIGTERM (leaving the cluster gracefully).
"""

from __future__ import annotations

import argparse
import json
import signal
import threading

import shoal
from shoal import Bus, Node
from topics import FORUM, PREFIX, VNODES, analyse


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--bus", required=True)
    p.add_argument("--id", required=True)
    p.add_argument("--weight", type=int, required=True)
    p.add_argument("--seed", required=True)
    a = p.parse_args()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    bus = Bus.open(a.bus)
    inbox = bus.endpoint(PREFIX + a.id)  # before serving routes: nothing is refused
    forum = bus.publisher(FORUM)
    with Node.start(
        id=a.id, role=a.id, weight=a.weight, vnodes=VNODES, seeds=[a.seed]
    ) as node:
        node.serve_routes(bus, prefix=PREFIX)
        print(f"{a.id}: up at {node.address}, weight {a.weight}", flush=True)
        while not stop.is_set():
            try:
                task = json.loads(bytes(inbox.recv(timeout=0.2)))
            except shoal.TimeoutError:
                continue
            post = {
                "author": a.id,
                "n": task["n"],
                "topic": task["topic"],
                "text": analyse(a.id, task["topic"]),
            }
            forum.publish_copy(json.dumps(post).encode())


if __name__ == "__main__":
    main()
