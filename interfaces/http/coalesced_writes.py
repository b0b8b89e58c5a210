"""uvicorn's httptools protocol writing each response in one `send` (issue #9).

uvicorn writes a response's head when the app sends `http.response.start` and its body on
`http.response.body`: two `write`s, and uvloop makes each a `send` system call at once, with
the GIL held (a loopback `send` also runs the receiving side's TCP path). In a py-spy profile
of POST /bookings under load those two calls were ~29% of the event loop's samples. Here the
connection's transport keeps what is written during one turn of the event loop and writes it
together at the end of that turn (`call_soon`): a head and a body sent back to back, as every
plain response is, leave in one `send`. Nothing waits longer than the current turn; a
`close()` writes what is pending first; more than `FLUSH_AT` bytes are written at once, so a
stream that never yields keeps uvloop's flow control.

Use: `uvicorn --http interfaces.http.coalesced_writes:CoalescedHttpToolsProtocol`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

FLUSH_AT = 64 * 1024


class CoalescingTransport:
    """A transport whose `write`s within one event-loop turn leave as one."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))
        self._size += len(data)
        if self._size >= FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
            self._pending.clear()
            self._size = 0
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    @property
    def transport(self) -> asyncio.Transport:
        return self._transport

    def __getattr__(self, name: str) -> Any:  # is_closing, pause_reading, get_extra_info...
        return getattr(self._transport, name)


class CoalescedHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # flow control and addresses: the real transport
        self.coalescing = CoalescingTransport(transport, self.loop)
        self.transport = self.coalescing  # type: ignore[assignment]

    def handle_websocket_upgrade(self) -> None:
        self.coalescing.flush()  # a WebSocket protocol gets the real transport
        self.transport = self.coalescing.transport
        super().handle_websocket_upgrade()


# What `uvicorn --http` (or `uvicorn.run(http=...)`) takes to serve with this protocol.
UVICORN_HTTP = f"{__name__}:{CoalescedHttpToolsProtocol.__name__}"
