"""The `text/event-stream` response: one connection's subscription to a channel.

On connect it subscribes first, then replays from the log what came after the client's
`Last-Event-ID` up to the position the subscription starts at, then says `ready` (its `id`
is that position, so a reconnect resumes from there), then writes live events, heartbeats
in between. It ends when the client goes, when it is too slow (its queue filled: the writer
is cancelled even mid-send), or when the server shuts down (every stream completes).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from infrastructure.metrics import SSE_CONNECTIONS
from interfaces.sse.hub import LiveHub, Subscription, encode
from projections.live_routes import Channel

log = logging.getLogger(__name__)

RETRY_MS = 2000  # how long EventSource waits before it reconnects
MAX_REPLAY_SPAN = 100_000  # log positions a reconnect may replay; further back: `reset`
REPLAY_CHUNK = 64 * 1024
FINAL_SEND_SECONDS = 1.0


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover


def hub_for(app: Any) -> LiveHub:
    """This app's hub, made on first use inside the serving event loop (a new loop, as a
    test client makes, gets a new hub; a closed one stays closed: the server is stopping)."""
    hub: LiveHub | None = getattr(app.state, "live_hub", None)
    if hub is None or hub.loop is not asyncio.get_running_loop():
        container = app.state.container
        settings = container.settings
        hub = LiveHub(
            container.live,
            queue_size=settings.sse_queue_size,
            heartbeat_seconds=settings.sse_heartbeat_seconds,
        )
        app.state.live_hub = hub
    return hub


class EventStream(StreamingResponse):
    media_type = "text/event-stream"

    def __init__(self, channel: Channel, after: int | None, *, live: bool = True) -> None:
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        super().__init__(_nothing(), headers=headers)
        self.channel = channel
        self.after = after
        self.live = live

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hub = hub_for(scope["app"])
        sub, position = hub.subscribe(self.channel)
        writer = asyncio.ensure_future(self._write(send, hub, sub, position))
        watcher = asyncio.ensure_future(_until_disconnect(receive))
        sub.on_drop = writer.cancel  # a slow client's writer may be stuck in send
        SSE_CONNECTIONS.inc()
        try:
            await asyncio.wait({writer, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if watcher.done():  # the client went: nothing more to send
                return
            if not writer.cancelled() and writer.exception() is not None:
                failure = writer.exception()
                log.warning("SSE stream on %s %s failed", *self.channel, exc_info=failure)
            with suppress(Exception):
                async with asyncio.timeout(FINAL_SEND_SECONDS):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            writer.cancel()
            watcher.cancel()
            hub.unsubscribe(sub)
            SSE_CONNECTIONS.dec()

    async def _write(self, send: Send, hub: LiveHub, sub: Subscription, position: int) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        floor = position
        if self.after is not None:
            if self.after < position:
                await self._replay(send, hub, self.after, position)
            floor = max(self.after, position)
        ready = {"position": floor, "resumed_from": self.after, "worker_pid": os.getpid()}
        await _body(send, f"retry: {RETRY_MS}\n".encode() + encode(floor, "ready", ready))
        while self.live:
            item = await sub.queue.get()
            if item is None:
                return
            if isinstance(item, bytes):
                await _body(send, item)
                continue
            # A reconnect ahead of this worker's tail skips what it already has.
            if len(item) == 1 and item[0][0] > floor:
                data = item[0][1]
            else:
                data = b"".join(frame for position, frame in item if position > floor)
            if data:
                await _body(send, data)

    async def _replay(self, send: Send, hub: LiveHub, after: int, upto: int) -> None:
        if upto - after > MAX_REPLAY_SPAN:
            reset = {"reason": "too_far_behind", "position": upto}
            await _body(send, encode(upto, "reset", reset))
            return
        missed = await run_in_threadpool(hub.tailer.replay, self.channel, after, upto)
        chunk = bytearray()
        for delivery in missed:
            chunk += encode(delivery.position, delivery.kind, delivery.data)
            if len(chunk) >= REPLAY_CHUNK:
                await _body(send, bytes(chunk))
                chunk.clear()
        if chunk:
            await _body(send, bytes(chunk))


async def _body(send: Send, data: bytes) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": True})


async def _until_disconnect(receive: Receive) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return


@contextmanager
def live_streams(app: Any) -> Iterator[None]:
    """For the app's lifespan: open streams end when the server is told to stop (SIGTERM,
    SIGINT), so they never hold a graceful shutdown open, and at the latest when the
    lifespan ends."""
    from interfaces.sse.signals import end_streams_on_signals

    restore = end_streams_on_signals(lambda: _close_hub(app))
    try:
        yield
    finally:
        restore()
        hub: LiveHub | None = getattr(app.state, "live_hub", None)
        if hub is not None:
            hub.close()


def _close_hub(app: Any) -> None:
    hub: LiveHub | None = getattr(app.state, "live_hub", None)
    if hub is not None:
        with suppress(RuntimeError):
            hub.loop.call_soon_threadsafe(hub.close)
