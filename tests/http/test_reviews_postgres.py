"""Reviews on PostgreSQL + Redis: two reviews in publish both together and rate the listing
(in GET /listings/{id} and in search sorted by rating); a lone review is published by the
scheduler once the window closes."""

from __future__ import annotations

from datetime import timedelta

from tests.http.conftest import API, Api
from tests.http.test_reviews_http import OWNER_REVIEW, RENTER_REVIEW, new_stay
from tests.polling import eventually


def rated_hits(api: Api, expected: list[tuple[str, float, int]]) -> None:
    """Search sorted by rating, polled (the scheduler run meanwhile) until the index, synced
    after the views, shows these (listing, rating, review count) in this order."""
    wanted = {listing for listing, _, _ in expected}

    def shown() -> list[tuple[str, float, int]]:
        api.container.scheduler.run_due(api.clock.now())
        r = api.client.get(f"{API}/search/listings", params={"sort": "rating", "limit": 100})
        assert r.status_code == 200, r.text
        hits = [h for h in r.json()["data"] if h["id"] in wanted]
        return [(h["id"], h["rating"], h["review_count"]) for h in hits]

    eventually(lambda: shown() == expected, f"search rated {expected}", seen=shown)


def test_reviews_are_published_and_rate_listings_on_postgres(pg_api: Api) -> None:
    api = pg_api
    loved = new_stay(api)
    loved.reviewed(loved.renter, {**RENTER_REVIEW, "rating": 5})
    assert loved.reviewed(loved.owner, OWNER_REVIEW)["status"] == "published"
    listing = loved.read(f"/listings/{loved.m.listing_id}").json()
    assert (listing["rating"], listing["review_count"]) == (5.0, 1)
    assert listing["category_ratings"] == {"cleanliness": 5.0, "value": 3.0}
    assert len(loved.listed(f"/listings/{loved.m.listing_id}/reviews")) == 1

    meh = new_stay(api)
    lone = meh.reviewed(meh.renter, {**RENTER_REVIEW, "rating": 2})
    assert lone["status"] == "pending"
    rated_hits(api, [(loved.m.listing_id, 5.0, 1), (meh.m.listing_id, 0.0, 0)])  # pending

    api.clock.set(meh.returned_at + timedelta(days=14))  # the window closes
    rated_hits(api, [(loved.m.listing_id, 5.0, 1), (meh.m.listing_id, 2.0, 1)])
    (published,) = meh.listed(f"/listings/{meh.m.listing_id}/reviews")
    assert published["id"] == lone["id"] and published["status"] == "published"
    assert meh.read(f"/listings/{meh.m.listing_id}").json()["rating"] == 2.0
