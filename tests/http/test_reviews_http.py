"""Reviews over HTTP on the embedded default: double-blind submission after the stay, both
published together (or the lone one when the window closes, by the scheduler), the ratings
on the listing and the users, and refusals that record nothing (the owner's reply, an admin
hiding a review and the lists: `test_reviews_replies_http.py`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.http.conftest import API, Api
from tests.http.reviews_support import (  # noqa: F401 (other modules import them from here)
    OWNER_REVIEW,
    RENTER_REVIEW,
    Stay,
    StayFactory,
    ended_booking,
    new_stay,
    recorded_by,
    wait_for_status,
)
from tests.http.test_bookings_http import Market, code, open_listing
from tests.polling import eventually


@pytest.fixture
def stay(api: Api) -> StayFactory:
    return lambda: new_stay(api)


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

    def published() -> list[dict[str, Any]]:
        api.container.scheduler.run_due(api.clock.now())
        return s.listed(f"/users/{s.renter.id}/reviews")

    shown = eventually(published, "the review published")
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
