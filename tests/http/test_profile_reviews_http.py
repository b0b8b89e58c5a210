"""The public profile carries the reviews a user received, once they are published."""

from __future__ import annotations

from tests.http.conftest import Api
from tests.http.test_reviews_http import OWNER_REVIEW, RENTER_REVIEW, new_stay


def test_a_profile_shows_reviews_only_once_published(api: Api) -> None:
    s = new_stay(api)
    s.reviewed(s.renter, {**RENTER_REVIEW, "rating": 4})
    owner = s.read(f"/users/{s.owner.id}").json()
    assert owner["reviews"] == {"count": 0, "average": 0.0, "categories": {}}  # double-blind

    s.reviewed(s.owner, {**OWNER_REVIEW, "rating": 5})
    owner = s.read(f"/users/{s.owner.id}").json()
    renter = s.read(f"/users/{s.renter.id}").json()
    assert (owner["reviews"]["count"], owner["reviews"]["average"]) == (1, 4.0)
    assert owner["reviews"]["categories"] == {
        k: float(v) for k, v in RENTER_REVIEW.get("category_ratings", {}).items()
    }
    assert (renter["reviews"]["count"], renter["reviews"]["average"]) == (1, 5.0)
