"""Reviews over HTTP on the embedded default: double-blind submission after the stay, both
published together (or the lone one when the window closes, by the scheduler), the ratings
on the listing and the users, the owner's reply, an admin hiding a review, and refusals that
record nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from httpx import Response

from domain.event_meta import event_meta
from domain.review import reviews_id_for
from interfaces.http.review_schemas import Category
from tests.http.conftest import API, Api, Auth
from tests.http.test_bookings_http import Market, code, open_listing

RENTER_REVIEW = {
    "rating": 4,
    "comment": "Bright flat, exactly as described.",
    "category_ratings": {"cleanliness": 5, "value": 3},
}
OWNER_REVIEW = {"rating": 5, "comment": "A careful guest.", "category_ratings": {"care": 5}}


@dataclass
class Stay:
    """A paid booking back from its stay (awaiting return inspection)."""

    api: Api
    m: Market
    booking_id: str
    returned_at: datetime

    @property
    def renter(self) -> Auth:
        return self.m.renter

    @property
    def owner(self) -> Auth:
        return self.m.owner

    def relogin(self) -> None:
        """After the clock moved past the sessions' lifetime."""
        a = self.api
        self.m = Market(
            a,
            a.login(self.owner.email),
            a.login(self.m.admin.email),
            a.login(self.renter.email),
            self.m.listing_id,
        )

    def review(self, auth: Auth, body: dict[str, Any] | None = None, **headers: str) -> Response:
        return self.api.client.post(
            f"{API}/bookings/{self.booking_id}/reviews",
            json=body if body is not None else RENTER_REVIEW,
            headers=auth.headers | headers,
        )

    def reviewed(self, auth: Auth, body: dict[str, Any]) -> dict[str, Any]:
        r = self.review(auth, body)
        assert r.status_code == 201, r.text
        review: dict[str, Any] = r.json()
        return review

    def read(self, path: str, auth: Auth | None = None) -> Response:
        """A GET that waits until the views hold every event recorded so far."""
        headers = {"X-Rentbook-Min-Position": str(self.api.container.store.current_position())}
        if auth is not None:
            headers |= auth.headers
        return self.api.client.get(f"{API}{path}", headers=headers)

    def listed(self, path: str) -> list[dict[str, Any]]:
        r = self.read(path)
        assert r.status_code == 200, r.text
        data: list[dict[str, Any]] = r.json()["data"]
        return data


def ended_booking(m: Market) -> tuple[str, datetime]:
    booking = m.paid(30, 32)
    end_at = datetime.fromisoformat(booking["deadlines"]["end_at"])
    m.api.clock.set(end_at + timedelta(hours=1))
    return str(booking["id"]), end_at


def wait_for_status(api: Api, booking_id: str, status: str) -> None:
    for _ in range(200):
        api.container.scheduler.run_due(api.clock.now())
        if api.container.bookings.get(UUID(booking_id)).status == status:
            return
        time.sleep(0.05)
    raise AssertionError(f"booking never became {status}")


StayFactory = Callable[[], Stay]


def new_stay(api: Api) -> Stay:
    """An active listing of a new owner, booked and paid by a new renter, and the clock
    moved past the booking's end until the scheduler ended it."""
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    m = Market(api, owner, admin, renter, open_listing(api, owner, admin))
    booking_id, _ = ended_booking(m)
    wait_for_status(api, booking_id, "awaiting_return_inspection")
    returned_at = api.container.bookings.get(UUID(booking_id)).returned_at
    assert returned_at is not None
    s = Stay(api, m, booking_id, returned_at)
    s.relogin()
    return s


@pytest.fixture
def stay(api: Api) -> StayFactory:
    return lambda: new_stay(api)


def recorded_by(api: Api, before: int, response: Response) -> list[Any]:
    """Events recorded after `before` on behalf of this (refused) request."""
    request_id = response.json()["request_id"]
    store = api.container.store
    notes = store.recorder.select_notifications(before, 10_000, inclusive_of_start=False)
    events = (store.mapper.to_domain_event(n) for n in notes)
    return [e for e in events if event_meta(e).get("request_id") == request_id]


# -- double-blind -------------------------------------------------------------------------------


def test_a_first_review_stays_pending_and_only_its_author_sees_it(stay: StayFactory) -> None:
    s = stay()
    r = s.review(s.renter)
    assert r.status_code == 201, r.text
    review = r.json()
    assert review["status"] == "pending" and review["published_at"] is None
    assert review["side"] == "renter" and review["reviewee_id"] == s.owner.id
    assert review["category_ratings"] == {"cleanliness": 5, "value": 3}
    assert r.headers["Location"] == f"/api/v1/reviews/{review['id']}"
    assert int(r.headers["X-Rentbook-Position"]) > 0

    assert s.read(f"/reviews/{review['id']}", s.renter).json()["status"] == "pending"
    for who in (s.owner, s.m.admin, None):
        r = s.read(f"/reviews/{review['id']}", who)
        assert r.status_code == 404 and code(r) == "review_not_found"
    assert s.listed(f"/listings/{s.m.listing_id}/reviews") == []
    assert s.listed(f"/users/{s.owner.id}/reviews") == []
    listing = s.read(f"/listings/{s.m.listing_id}").json()
    assert (listing["rating"], listing["review_count"]) == (0.0, 0)


def test_the_second_review_publishes_both_together_with_the_ratings(stay: StayFactory) -> None:
    s = stay()
    first = s.reviewed(s.renter, RENTER_REVIEW)
    second = s.reviewed(s.owner, OWNER_REVIEW)
    assert second["status"] == "published" and second["published_at"]

    (of_listing,) = s.listed(f"/listings/{s.m.listing_id}/reviews")
    assert of_listing["id"] == first["id"] and of_listing["status"] == "published"
    assert of_listing["published_at"] == second["published_at"].replace("+00:00", "Z")
    (of_owner,) = s.listed(f"/users/{s.owner.id}/reviews")
    (of_renter,) = s.listed(f"/users/{s.renter.id}/reviews")
    assert (of_owner["id"], of_renter["id"]) == (first["id"], second["id"])
    assert of_renter["published_at"] == of_listing["published_at"]  # together

    r = s.read(f"/listings/{s.m.listing_id}")
    assert r.status_code == 200
    listing = r.json()
    assert (listing["rating"], listing["review_count"]) == (4.0, 1)
    assert listing["category_ratings"] == {"cleanliness": 5.0, "value": 3.0}
    # Everyone sees published reviews now, the other side included.
    assert s.read(f"/reviews/{first['id']}", s.owner).json()["status"] == "published"
    assert s.read(f"/reviews/{first['id']}").status_code == 200


def test_a_lone_review_is_published_by_the_scheduler_when_the_window_closes(
    api: Api, stay: StayFactory
) -> None:
    s = stay()
    review = s.reviewed(s.owner, OWNER_REVIEW)
    api.clock.set(s.returned_at + timedelta(days=14) - timedelta(seconds=1))
    api.container.scheduler.run_due(api.clock.now())
    assert s.listed(f"/users/{s.renter.id}/reviews") == []

    api.clock.set(s.returned_at + timedelta(days=14))
    for _ in range(100):
        api.container.scheduler.run_due(api.clock.now())
        shown = s.listed(f"/users/{s.renter.id}/reviews")
        if shown:
            break
        time.sleep(0.05)
    assert [r["id"] for r in shown] == [review["id"]]
    assert shown[0]["published_at"] == (s.returned_at + timedelta(days=14)).isoformat().replace(
        "+00:00", "Z"
    )
    s.relogin()
    r = s.review(s.renter)  # the window is closed for the other side
    assert r.status_code == 422 and code(r) == "review_window_closed"


def test_each_party_reads_the_booking_reviews_it_may_see(api: Api, stay: StayFactory) -> None:
    s = stay()
    url = f"/bookings/{s.booking_id}/reviews"
    before = s.read(url, s.renter).json()
    assert before["reviews"] == [] and before["published_at"] is None
    opens = datetime.fromisoformat(before["window_opens_at"])
    assert opens == s.returned_at
    assert datetime.fromisoformat(before["window_closes_at"]) == opens + timedelta(days=14)

    mine = s.reviewed(s.renter, RENTER_REVIEW)
    assert [r["id"] for r in s.read(url, s.renter).json()["reviews"]] == [mine["id"]]
    assert s.read(url, s.owner).json()["reviews"] == []  # blind
    assert s.read(url, s.m.admin).json()["reviews"] == []  # nobody else either
    r = s.read(url, api.new_user())
    assert r.status_code == 404 and code(r) == "booking_not_found"

    theirs = s.reviewed(s.owner, OWNER_REVIEW)
    for who in (s.renter, s.owner, s.m.admin):
        body = s.read(url, who).json()
        assert [r["id"] for r in body["reviews"]] == [mine["id"], theirs["id"]]
        assert body["published_at"] is not None


# -- refusals -----------------------------------------------------------------------------------


def test_a_second_review_by_the_same_side_is_409_and_records_nothing(
    api: Api, stay: StayFactory
) -> None:
    s = stay()
    s.reviewed(s.renter, RENTER_REVIEW)
    before = api.container.store.current_position()
    r = s.review(s.renter)
    assert r.status_code == 409 and code(r) == "already_reviewed"
    assert recorded_by(api, before, r) == []


BAD_BODIES: list[tuple[dict[str, Any], str]] = [
    ({**RENTER_REVIEW, "rating": 0}, "validation_failed"),
    ({**RENTER_REVIEW, "rating": 6}, "validation_failed"),
    ({**RENTER_REVIEW, "rating": "five"}, "validation_failed"),
    ({**RENTER_REVIEW, "comment": ""}, "validation_failed"),
    ({**RENTER_REVIEW, "comment": "x" * 5001}, "validation_failed"),
    ({**RENTER_REVIEW, "category_ratings": {"cleanliness": 9}}, "validation_failed"),
    ({**RENTER_REVIEW, "category_ratings": {"sauna": 4}}, "validation_failed"),
    ({**RENTER_REVIEW, "category_ratings": {"care": 4}}, "bad_category"),  # owner's one
    ({**RENTER_REVIEW, "comment": "   "}, "comment_required"),
    ({"rating": 4}, "validation_failed"),
    ({**RENTER_REVIEW, "stars": 4}, "validation_failed"),
]


def test_bad_ratings_and_comments_are_422_and_record_nothing(api: Api, stay: StayFactory) -> None:
    s = stay()
    for body, expected in BAD_BODIES:
        before = api.container.store.current_position()
        r = s.review(s.renter, body)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == expected, body
        assert recorded_by(api, before, r) == []
    assert s.review(s.renter).status_code == 201  # nothing was taken for a review


def test_strangers_get_404_and_admins_403_and_nothing_is_recorded(
    api: Api, stay: StayFactory
) -> None:
    s = stay()
    before = api.container.store.current_position()
    r = s.review(api.new_user())
    assert r.status_code == 404 and code(r) == "booking_not_found"
    assert recorded_by(api, before, r) == []
    r = s.review(s.m.admin)
    assert r.status_code == 403 and code(r) == "not_party"
    r = api.client.post(f"{API}/bookings/{s.booking_id}/reviews", json=RENTER_REVIEW)
    assert r.status_code == 401


def test_a_booking_before_its_end_or_cancelled_cannot_be_reviewed(api: Api) -> None:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    m = Market(api, owner, admin, renter, open_listing(api, owner, admin))
    confirmed = m.paid(30, 32)
    before = api.container.store.current_position()
    r = m.post(f"/bookings/{confirmed['id']}/reviews", m.renter, RENTER_REVIEW)
    assert r.status_code == 422 and code(r) == "not_reviewable"
    assert recorded_by(api, before, r) == []
    m.post(f"/bookings/{confirmed['id']}/cancel", m.renter, {"reason": "plans changed"})
    r = m.post(f"/bookings/{confirmed['id']}/reviews", m.owner, OWNER_REVIEW)
    assert r.status_code == 422 and code(r) == "not_reviewable"


def test_a_review_after_the_14_day_window_is_422(api: Api, stay: StayFactory) -> None:
    s = stay()
    api.clock.set(s.returned_at + timedelta(days=14))
    s.relogin()
    before = api.container.store.current_position()
    r = s.review(s.renter)
    assert r.status_code == 422 and code(r) == "review_window_closed"
    assert recorded_by(api, before, r) == []


def test_a_retried_submission_with_an_idempotency_key_replays_the_first_answer(
    stay: StayFactory,
) -> None:
    s = stay()
    first = s.review(s.renter, RENTER_REVIEW, **{"Idempotency-Key": "review-1"})
    again = s.review(s.renter, RENTER_REVIEW, **{"Idempotency-Key": "review-1"})
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["X-Rentbook-Position"] == first.headers["X-Rentbook-Position"]


# -- replies and moderation ---------------------------------------------------------------------


def published_pair(s: Stay) -> tuple[dict[str, Any], dict[str, Any]]:
    return s.reviewed(s.renter, RENTER_REVIEW), s.reviewed(s.owner, OWNER_REVIEW)


def test_the_owner_replies_once_publicly(api: Api, stay: StayFactory) -> None:
    s = stay()
    of_listing, of_renter = published_pair(s)
    url = f"/reviews/{of_listing['id']}/reply"
    r = s.m.post(url, s.owner, {"text": "Thank you, come back soon!"})
    assert r.status_code == 200, r.text
    assert r.json()["reply"] == "Thank you, come back soon!" and r.json()["replied_at"]
    (shown,) = s.listed(f"/listings/{s.m.listing_id}/reviews")
    assert shown["reply"] == "Thank you, come back soon!"

    before = api.container.store.current_position()
    r = s.m.post(url, s.owner, {"text": "And again"})
    assert r.status_code == 409 and code(r) == "already_replied"
    assert recorded_by(api, before, r) == []
    r = s.m.post(url, s.renter, {"text": "Me too"})
    assert r.status_code == 403 and code(r) == "not_owner"
    r = s.m.post(f"/reviews/{of_renter['id']}/reply", s.owner, {"text": "Hm"})
    assert r.status_code == 403
    assert s.m.post(url, s.owner, {"text": "x" * 2001}).status_code == 422


def test_nobody_replies_to_a_pending_review(stay: StayFactory) -> None:
    s = stay()
    pending = s.reviewed(s.renter, RENTER_REVIEW)
    r = s.m.post(f"/reviews/{pending['id']}/reply", s.owner, {"text": "Thanks"})
    assert r.status_code == 404 and code(r) == "review_not_found"
    r = s.m.post(f"/reviews/{UUID(int=7)}/reply", s.owner, {"text": "Thanks"})
    assert r.status_code == 404


def test_an_admin_hides_a_review_and_it_leaves_the_lists_and_the_averages(
    api: Api, stay: StayFactory
) -> None:
    s = stay()
    of_listing, _ = published_pair(s)
    assert s.read(f"/listings/{s.m.listing_id}").json()["review_count"] == 1
    url = f"/admin/reviews/{of_listing['id']}/hide"
    r = s.m.post(url, s.owner, {"reason": "I do not like it"})
    assert r.status_code == 403

    r = s.m.post(url, s.m.admin, {"reason": "personal data in the comment"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "hidden"
    assert r.json()["hidden_reason"] == "personal data in the comment"
    assert s.listed(f"/listings/{s.m.listing_id}/reviews") == []
    assert s.listed(f"/users/{s.owner.id}/reviews") == []
    assert len(s.listed(f"/users/{s.renter.id}/reviews")) == 1  # the other review stays
    listing = s.read(f"/listings/{s.m.listing_id}").json()
    assert (listing["rating"], listing["review_count"], listing["category_ratings"]) == (
        0.0,
        0,
        {},
    )
    assert s.read(f"/reviews/{of_listing['id']}").status_code == 404
    assert s.read(f"/reviews/{of_listing['id']}", s.m.admin).json()["status"] == "hidden"
    assert s.m.post(url, s.m.admin, {"reason": "again"}).status_code == 409
    assert s.m.post(url, s.m.admin, {"reason": ""}).status_code == 422

    # The admin action is in the stream history and the audit index, with its actor.
    stream = reviews_id_for(UUID(s.booking_id))
    r = s.read(f"/admin/streams/{stream}/events", s.m.admin)
    hidden = [e for e in r.json()["data"] if e["type"].endswith("Hidden")]
    assert len(hidden) == 1 and hidden[0]["actor_id"] == s.m.admin.id
    r = s.read("/admin/audit?type=BookingReviews.Hidden", s.m.admin)
    assert [e["actor_id"] for e in r.json()["data"]] == [s.m.admin.id]


def test_review_lists_page_newest_first_and_unknown_subjects_are_404(
    api: Api, stay: StayFactory
) -> None:
    s = stay()
    published_pair(s)
    r = s.read(f"/users/{s.renter.id}/reviews?limit=1")
    assert r.status_code == 200 and len(r.json()["data"]) == 1
    assert r.json()["next_cursor"] is None
    assert s.read(f"/users/{UUID(int=5)}/reviews").status_code == 404
    assert s.read(f"/users/{s.m.listing_id}/reviews").status_code == 404  # not a user
    assert s.read(f"/listings/{UUID(int=5)}/reviews").status_code == 404
    r = s.read(f"/listings/{s.m.listing_id}/reviews?cursor=not-a-cursor")
    assert r.status_code == 422


def test_the_api_offers_exactly_the_categories_the_domain_knows() -> None:
    from domain.review import CATEGORIES

    known = {c for names in CATEGORIES.values() for c in names}
    assert set(Category.__args__) == known  # type: ignore[attr-defined]
