"""asyncio helpers: an async iterator over a node's membership events.

``Node.events_async()`` (or ``async for ev in node.events():``) returns an
:class:`EventStream`. Each step waits for an event in a short blocking call (at most
100 ms) on the running loop's default executor and tries again until one comes, so:

* the event loop itself never blocks;
* cancelling the awaiting task (``asyncio.wait_for``, ``asyncio.timeout``) loses no
  event: the call still in flight is kept and the next step awaits it first;
* the loop's shutdown (``asyncio.run`` returning) waits at most one short call.

The stream ends (``StopAsyncIteration``) once the node has stopped and every event it
queued was read.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._native import Event, Events

__all__ = ["EventStream"]

#: Seconds each executor call waits for an event before returning.
POLL = 0.1


class EventStream:
    """``async for ev in EventStream(node.events()):`` — membership events in asyncio."""

    def __init__(self, events: Events) -> None:
        self._events = events
        self._pending: asyncio.Future[Event | None] | None = None

    @property
    def events(self) -> Events:
        """The blocking subscription underneath."""
        return self._events

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        loop = asyncio.get_running_loop()
        while True:
            if self._pending is None or self._pending.get_loop() is not loop:
                self._pending = loop.run_in_executor(None, self._events.next_event, POLL)
            # Shielded: if our task is cancelled, the call keeps running and its event
            # (if any) is returned by the next step instead of being dropped.
            event = await asyncio.shield(self._pending)
            self._pending = None
            if event is not None:
                return event
            if self._events.closed:
                raise StopAsyncIteration

    def __repr__(self) -> str:
        return f"EventStream({self._events!r})"
