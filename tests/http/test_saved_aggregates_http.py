"""Commands answer from the aggregates they saved: POST /bookings does not load the new
booking back from the store, and its answer equals what a later GET reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from tests.http.conftest import Api
from tests.http.test_bookings_http import Market, MarketFactory, market  # noqa: F401


@pytest.fixture
def loads(api: Api) -> Iterator[list[UUID]]:
    """Every aggregate id whose events the store read from its database: by the library's
    `Repository.get`, or by the store's own reads of cached streams' tails (both end in the
    recorder's `select_events`; `select_streams` is PostgreSQL's one-query read)."""
    recorder = api.container.store.recorder
    seen: list[UUID] = []
    original = recorder.select_events
    one_query = getattr(recorder, "select_streams", None)

    def counting(originator_id: UUID, *args: Any, **kwargs: Any) -> Any:
        seen.append(originator_id)
        return original(originator_id, *args, **kwargs)

    def counting_streams(after: list[tuple[UUID, int | None]], *args: Any) -> Any:
        seen.extend(stream for stream, _ in after)
        assert one_query is not None
        return one_query(after, *args)

    setattr(recorder, "select_events", counting)  # noqa: B010
    if one_query is not None:
        setattr(recorder, "select_streams", counting_streams)  # noqa: B010
    yield seen
    setattr(recorder, "select_events", original)  # noqa: B010
    if one_query is not None:
        setattr(recorder, "select_streams", one_query)  # noqa: B010


def test_placing_answers_from_the_saved_booking_without_loading_it(
    market: MarketFactory,  # noqa: F811
    loads: list[UUID],
) -> None:
    m: Market = market()
    assert m.book(40, 41).status_code == 201  # the renter's principal is cached from here
    loads.clear()
    r = m.book(30, 32)
    assert r.status_code == 201, r.text
    booking_id = UUID(r.json()["id"])
    assert booking_id not in loads  # the answer came from the aggregate just saved
    assert len(loads) == 2  # only the listing and its calendar, which the placement reads

    again = m.get(str(booking_id))
    assert booking_id in loads  # a new request reads the store
    assert again.json() == r.json()
    assert again.headers["ETag"] == r.headers["ETag"]


def test_an_owners_answer_comes_from_the_aggregate_it_saved(
    market: MarketFactory,  # noqa: F811
    loads: list[UUID],
) -> None:
    m: Market = market(booking_mode="request")
    booking = m.book(30, 32).json()
    loads.clear()
    r = m.post(f"/bookings/{booking['id']}/approve", m.owner)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "pending_payment"
    assert loads.count(UUID(booking["id"])) == 1  # loaded once to act on, not again to answer
    assert m.get(booking["id"]).json() == r.json()
