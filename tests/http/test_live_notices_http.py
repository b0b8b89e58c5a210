"""`GET /me/stream`'s notices feed over a served app (uvicorn, real HTTP): a dispute opened
on a booking reaches both parties' streams as a `dispute` event naming the dispute and the
booking, and a review, once both sides have written theirs, reaches each reviewed party as
a `review` event; each the signal to re-read `GET /me/notifications`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from tests.http.conftest import API, Api, Auth
from tests.http.reviews_support import OWNER_REVIEW, RENTER_REVIEW, new_stay
from tests.http.test_disputes_http import EndedFactory, ended  # noqa: F401 - fixture
from tests.http.test_live_messages import served  # noqa: F401 - fixture
from tests.sse_support import Sse, SseStream


def told(
    base_url: str, parties: list[Auth], act: Callable[[], Any], kind: str
) -> tuple[Any, list[Sse]]:
    """What `act` answers, and the first `kind` event each party's stream (open and ready
    before `act`) tells after it."""
    with ExitStack() as stack:
        url = f"{base_url}{API}/me/stream"
        streams = [stack.enter_context(SseStream(url, p.headers)) for p in parties]
        for stream in streams:
            [ready] = stream.events(1)
            assert ready.kind == "ready"
        answer = act()
        return answer, [s.until(lambda event: event.kind == kind)[-1] for s in streams]


def test_a_dispute_reaches_both_parties_streams_as_a_notice(
    ended: EndedFactory,  # noqa: F811
    served: str,  # noqa: F811
) -> None:
    e = ended()
    # Opened by the renter; the owner is told too.
    dispute, notices = told(served, [e.m.owner, e.m.renter], e.opened, "dispute")
    for notice in notices:
        assert notice.data["dispute_id"] == dispute["id"]
        assert notice.data["booking_id"] == e.id
    assert notices[0].id == notices[1].id  # one event of the log, told to each party


def test_published_reviews_reach_each_reviewed_partys_stream(
    api: Api,
    served: str,  # noqa: F811
) -> None:
    s = new_stay(api)
    s.reviewed(s.renter, RENTER_REVIEW)  # hidden until the other side reviews too
    _, notices = told(
        served, [s.owner, s.renter], lambda: s.reviewed(s.owner, OWNER_REVIEW), "review"
    )
    for notice in notices:
        assert notice.data["listing_id"] == s.m.listing_id
        assert notice.data["type"].endswith("Published")
    assert notices[0].id == notices[1].id
