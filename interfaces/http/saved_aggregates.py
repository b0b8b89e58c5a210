"""Each HTTP request is a scope in which commands answer from the aggregates they saved
(`application/saved_aggregates.py`): a pure ASGI middleware, so the scope's dict is shared
by the threads the request's dependencies and endpoint run in."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from application.saved_aggregates import answering_from_saves


class SavedAggregatesMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with answering_from_saves():
            await self.app(scope, receive, send)
