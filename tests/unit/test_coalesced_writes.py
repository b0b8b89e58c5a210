"""uvicorn's protocol writes what one event-loop turn sends as one `write` (one `send` call):
a response's head and body together, in order, and nothing held past the turn or a close."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import uvicorn
from hypothesis import given
from hypothesis import strategies as st

from interfaces.http.coalesced_writes import FLUSH_AT, CoalescingTransport


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> Any:
        return f"info:{name}"


async def _turns(chunks_per_turn: list[list[bytes]]) -> FakeTransport:
    fake = FakeTransport()
    transport = CoalescingTransport(fake, asyncio.get_running_loop())  # type: ignore[arg-type]
    for chunks in chunks_per_turn:
        for chunk in chunks:
            transport.write(chunk)
        await asyncio.sleep(0)  # the end of a turn
        await asyncio.sleep(0)
    return fake


def test_a_turns_writes_leave_as_one_in_order() -> None:
    fake = asyncio.run(_turns([[b"HTTP/1.1 201\r\n\r\n", b'{"id":1}'], [b"next"]]))
    assert fake.writes == [b'HTTP/1.1 201\r\n\r\n{"id":1}', b"next"]


@given(st.lists(st.lists(st.binary(max_size=FLUSH_AT // 2), max_size=4), max_size=5))
def test_every_byte_leaves_in_order_and_no_write_passes_the_limit_alone(
    turns: list[list[bytes]],
) -> None:
    fake = asyncio.run(_turns(turns))
    assert b"".join(fake.writes) == b"".join(b"".join(chunks) for chunks in turns)
    assert all(len(w) < FLUSH_AT + FLUSH_AT // 2 for w in fake.writes)


def test_close_writes_what_is_pending_first_and_the_rest_passes_through() -> None:
    async def run() -> FakeTransport:
        fake = FakeTransport()
        transport = CoalescingTransport(fake, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"last words")
        assert transport.get_extra_info("peername") == "info:peername"
        transport.close()
        await asyncio.sleep(0)  # the scheduled flush finds nothing left
        return fake

    fake = asyncio.run(run())
    assert fake.writes == [b"last words"] and fake.closed


def test_uvicorn_serves_keep_alive_requests_through_it() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["path"].encode()})

    async def run() -> list[str]:
        config = uvicorn.Config(
            app,
            port=0,
            lifespan="off",
            log_level="warning",
            http="interfaces.http.coalesced_writes:CoalescedHttpToolsProtocol",
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            texts = [(await client.get(f"/r{i}")).text for i in range(3)]
        server.should_exit = True
        await task
        return texts

    assert asyncio.run(run()) == ["/r0", "/r1", "/r2"]
