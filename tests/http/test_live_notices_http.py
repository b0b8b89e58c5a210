"""`GET /me/stream`'s notices feed over a served app (uvicorn, real HTTP): a dispute opened
on a booking reaches both parties' streams as a `dispute` event naming the dispute and the
booking, and a review, once both sides have written theirs, reaches each reviewed party as
a `review` event; each the signal to re-read `GET /me/notifications`."""

from __future__ import annotations

from tests.http.conftest import API, Api
from tests.http.reviews_support import OWNER_REVIEW, RENTER_REVIEW, new_stay
from tests.http.test_disputes_http import EndedFactory, ended  # noqa: F401 - fixture
from tests.http.test_live_messages import served  # noqa: F401 - fixture
from tests.sse_support import SseStream


def test_a_dispute_reaches_both_parties_streams_as_a_notice(
    ended: EndedFactory,  # noqa: F811
    served: str,  # noqa: F811
) -> None:
    e = ended()
    url = f"{served}{API}/me/stream"
    with (
        SseStream(url, e.m.owner.headers) as to_owner,
        SseStream(url, e.m.renter.headers) as to_renter,
    ):
        for stream in (to_owner, to_renter):
            [ready] = stream.events(1)
            assert ready.kind == "ready"
        dispute = e.opened()  # by the renter; the owner is told too
        notices = [
            s.until(lambda event: event.kind == "dispute")[-1] for s in (to_owner, to_renter)
        ]
    for notice in notices:
        assert notice.data["dispute_id"] == dispute["id"]
        assert notice.data["booking_id"] == e.id
    assert notices[0].id == notices[1].id  # one event of the log, told to each party


def test_published_reviews_reach_each_reviewed_partys_stream(
    api: Api,
    served: str,  # noqa: F811
) -> None:
    s = new_stay(api)
    url = f"{served}{API}/me/stream"
    with (
        SseStream(url, s.owner.headers) as to_owner,
        SseStream(url, s.renter.headers) as to_renter,
    ):
        for stream in (to_owner, to_renter):
            [ready] = stream.events(1)
            assert ready.kind == "ready"
        s.reviewed(s.renter, RENTER_REVIEW)  # hidden until the other side reviews too
        s.reviewed(s.owner, OWNER_REVIEW)
        notices = [t.until(lambda event: event.kind == "review")[-1] for t in (to_owner, to_renter)]
    for notice in notices:
        assert notice.data["listing_id"] == s.m.listing_id
        assert notice.data["type"].endswith("Published")
    assert notices[0].id == notices[1].id
