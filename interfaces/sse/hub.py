"""The SSE fan-out of one event loop (one API worker): the process's log tail hands it each
page's deliveries once (`call_soon_threadsafe`), it encodes each delivery once and offers
the bytes to the bounded queue of every connection on that channel, one item per page (a
burst of events is one item, not many). A queue that is full
means the client reads slower than events come: the connection is dropped (the client
reconnects with `Last-Event-ID` and replays from the log), never buffered without bound.
One ticker puts a heartbeat comment into every queue, instead of a timer per connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from infrastructure.metrics import SSE_DROPPED
from projections.live_routes import Channel, Delivery
from projections.live_tailer import LiveTailer

log = logging.getLogger(__name__)

HEARTBEAT = b": heartbeat\n\n"
# A page's frames for one channel, each with its position | a heartbeat | the end.
Item = tuple[tuple[int, bytes], ...] | bytes | None


def encode(position: int, kind: str, data: dict[str, Any]) -> bytes:
    body = json.dumps(data, separators=(",", ":"), default=str)
    return f"id: {position}\nevent: {kind}\ndata: {body}\n\n".encode()


class Subscription:
    __slots__ = ("channel", "dropped", "on_drop", "queue")

    def __init__(self, channel: Channel, size: int) -> None:
        self.channel = channel
        self.queue: asyncio.Queue[Item] = asyncio.Queue(size)
        self.dropped = False
        self.on_drop: Callable[[], object] | None = None

    def offer(self, item: Item) -> None:
        if self.dropped:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.drop()

    def drop(self) -> None:
        self.dropped = True
        if self.on_drop is not None:
            self.on_drop()

    def end(self) -> None:
        self.offer(None)


class LiveHub:
    """Create inside the event loop it serves."""

    def __init__(self, tailer: LiveTailer, *, queue_size: int, heartbeat_seconds: float) -> None:
        self.loop = asyncio.get_running_loop()
        self.tailer = tailer
        self.queue_size = queue_size
        self.heartbeat_seconds = heartbeat_seconds
        self.closed = False
        self.dropped = 0
        self._subs: dict[Channel, set[Subscription]] = {}
        self.position = tailer.attach(self._from_tail)
        self._ticker = self.loop.create_task(self._tick())

    @property
    def connections(self) -> int:
        return sum(len(subs) for subs in self._subs.values())

    def subscribe(self, channel: Channel) -> tuple[Subscription, int]:
        """A new connection's queue and the position its live events start after."""
        sub = Subscription(channel, self.queue_size)
        if self.closed:
            sub.end()
        else:
            self._subs.setdefault(channel, set()).add(sub)
        return sub, self.position

    def unsubscribe(self, sub: Subscription) -> None:
        if sub.dropped:  # counted before it leaves, so `connections` never runs ahead
            self.dropped += 1
            SSE_DROPPED.inc()
            log.info("dropped a slow SSE client on %s %s", *sub.channel)
        subs = self._subs.get(sub.channel)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.channel]

    def close(self) -> None:
        """Ends every stream (server shutdown): each writes what it has and completes."""
        if self.closed:
            return
        self.closed = True
        self.tailer.detach(self._from_tail)
        self._ticker.cancel()
        for subs in list(self._subs.values()):
            for sub in list(subs):
                sub.end()

    # -- from the tail ------------------------------------------------------------------

    def _from_tail(self, position: int, deliveries: list[Delivery]) -> None:
        try:
            self.loop.call_soon_threadsafe(self._publish, position, deliveries)
        except RuntimeError:  # the loop is closed: this worker is gone
            self.tailer.detach(self._from_tail)

    def _publish(self, position: int, deliveries: list[Delivery]) -> None:
        pages: dict[Channel, list[tuple[int, bytes]]] = {}
        for d in deliveries:
            if d.channel in self._subs:
                pages.setdefault(d.channel, []).append(
                    (d.position, encode(d.position, d.kind, d.data))
                )
        for channel, frames in pages.items():
            item = tuple(frames)
            for sub in list(self._subs.get(channel, ())):
                sub.offer(item)
        self.position = max(self.position, position)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            for subs in list(self._subs.values()):
                for sub in list(subs):
                    sub.offer(HEARTBEAT)
