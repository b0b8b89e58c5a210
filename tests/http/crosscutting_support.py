"""Helpers of the cross-cutting HTTP tests: a test-only counting route and a problem check."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from fastapi import Response

from interfaces.http.positions import set_position
from tests.http.conftest import API, Api

COUNT = f"{API}/test/count"
MISSING = "00000000-0000-4000-8000-000000000000"


class Counter:
    """A test-only command route: counts executions, optionally slowly or blocked."""

    def __init__(self, api: Api, delay: float = 0.0) -> None:
        self.calls = 0
        self.delay = delay
        self.gate: threading.Event | None = None
        self._lock = threading.Lock()
        api.app.add_api_route(COUNT, self.endpoint, methods=["POST"], status_code=201)

    def endpoint(self, body: dict[str, Any], response: Response) -> dict[str, Any]:
        with self._lock:
            self.calls += 1
            n = self.calls
        if self.gate is not None:
            self.gate.wait(5)
        time.sleep(self.delay)
        set_position(response, 1000 + n)
        response.headers["Location"] = f"/things/{n}"
        response.headers["ETag"] = f'"{n}"'
        return {"call": n, "echo": body}


def assert_problem(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    assert body["type"].startswith("https://rentbook.dev/problems/")
    if code is not None:
        assert body["code"] == code
    return body
