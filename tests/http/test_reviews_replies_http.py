"""Reviews over HTTP on the embedded default: the owner's reply, an admin hiding a review,
review lists and the categories the API offers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from domain.review import reviews_id_for
from interfaces.http.review_schemas import Category
from tests.http.conftest import Api
from tests.http.reviews_support import (
    OWNER_REVIEW,
    RENTER_REVIEW,
    Stay,
    StayFactory,
    new_stay,
    recorded_by,
)
from tests.http.test_bookings_http import code


@pytest.fixture
def stay(api: Api) -> StayFactory:
    return lambda: new_stay(api)


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
