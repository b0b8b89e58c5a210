#!/usr/bin/env python
"""Is orjson worth it? Serialisation cost per answer of `POST /bookings` (201 booking) and of
a 409 problem, FastAPI's current path against `ORJSONResponse` as the default response
class. Prints one JSON object. Needs `pip install orjson` (not a dependency: see the result).

FastAPI (>= 0.120) already serialises a route with a response model straight to JSON bytes
in pydantic-core; a default response class other than its own turns that off and goes
through `jsonable_encoder` (Python) before orjson sees the data.

Run:  .venv/bin/python bench/json_responses.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import timeit
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT  # noqa: F401  (puts the project on sys.path)
from fastapi.encoders import jsonable_encoder
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from application.context import Actor, command_context
from infrastructure.bootstrap import build_container
from infrastructure.settings import Settings
from interfaces.http.app import create_app
from interfaces.http.booking_schemas import BookingPublic
from interfaces.http.problems import problem_body
from tests.builders import listing_spec, verified_user

ROUNDS = 5000


def _booking_answer(tmp: Path) -> BookingPublic:
    """A real 201 answer of POST /bookings on the embedded default."""
    container = build_container(
        Settings(environment="test", data_dir=tmp), time_cost=1, memory_cost=64, parallelism=1
    )
    now = datetime.now(UTC)
    owner, admin = Actor(verified_user(container.store), "user"), Actor(uuid.uuid4(), "admin")
    with command_context(owner):
        listing_id, _ = container.listings.create(owner, listing_spec(), now)
        container.listings.submit(owner, listing_id, now)
    with command_context(admin):
        container.listings.approve(admin, listing_id, now)
    container.identity.register("r@example.com", "correct horse battery", "R", at=now)
    session, _, _ = container.identity.login("r@example.com", "correct horse battery", at=now)
    night = date.today() + timedelta(days=10)
    body = {
        "listing_id": str(listing_id),
        "start": night.isoformat(),
        "end": (night + timedelta(days=2)).isoformat(),
        "quantity": 1,
        "guests": 1,
    }
    with TestClient(create_app(container), base_url="https://testserver") as client:
        r = client.post(
            "/api/v1/bookings", json=body, headers={"Authorization": f"Bearer {session.token}"}
        )
    container.close()
    assert r.status_code == 201, r.text
    return BookingPublic.model_validate(r.json())


def _us(fn: object) -> float:
    return round(timeit.timeit(fn, number=ROUNDS) / ROUNDS * 1e6, 2)  # type: ignore[arg-type]


def main() -> None:
    try:
        import orjson
    except ImportError:
        print(json.dumps({"benchmark": "json_responses", "error": "pip install orjson"}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        model = _booking_answer(Path(tmp))
    adapter = TypeAdapter(BookingPublic)
    problem = json.loads(problem_body(409, "unavailable", "taken", instance="/api/v1/bookings"))
    current = _us(lambda: adapter.dump_json(model))
    orjson_path = _us(
        lambda: orjson.dumps(
            jsonable_encoder(adapter.dump_python(model, mode="json")),
            option=orjson.OPT_NON_STR_KEYS,
        )
    )
    out = {
        "benchmark": "json_responses",
        "booking_bytes": len(adapter.dump_json(model)),
        "booking_us": {"fastapi_pydantic_dump_json": current, "orjson_response": orjson_path},
        "problem_409_us": {
            "json_dumps": _us(
                lambda: problem_body(409, "unavailable", "taken", instance="/api/v1/bookings")
            ),
            "orjson": _us(lambda: orjson.dumps(problem)),
        },
        "orjson_response_over_current": round(orjson_path / current, 1),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
