"""Demo data with photos: each listing shows pictures its owner uploaded through the media
use case, served as real images, with a cover in search; and the drawn pictures differ."""

from __future__ import annotations

import io

from PIL import Image

from application.context import Actor
from application.demo import seed_demo
from application.demo_photos import PER_CATEGORY, listing_photos
from infrastructure.demo_images import HEIGHT, WIDTH, draw_demo_photo
from tests.http.conftest import API, Api
from tests.polling import eventually

MIN = "X-Rentbook-Min-Position"


def test_demo_listings_have_their_owners_photos_served_and_a_cover_in_search(api: Api) -> None:
    c = api.container
    seed_demo(
        c.identity,
        c.listings,
        c.bookings,
        count=12,
        at=api.clock.now(),
        places=c.places,
        media=c.media,
        draw=draw_demo_photo,
    )
    caught_up = {MIN: str(c.store.current_position())}
    owner = api.login("owner0@rentbook.example", "rentbook-demo-password")
    r = api.client.get(
        f"{API}/me/listings", params={"limit": 100}, headers=owner.headers | caught_up
    )
    assert r.status_code == 200, r.text
    mine = r.json()["data"]
    assert mine and all(len(row["photos"]) == PER_CATEGORY for row in mine)
    assert all(row["cover_photo_id"] == row["photos"][0]["id"] for row in mine)
    first = mine[0]["photos"][0]
    image = api.client.get(first["urls"]["display"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(image.content)).size == (WIDTH, HEIGHT)

    def hits() -> list[dict[str, object]]:
        return list(api.client.get(f"{API}/search/listings", params={"limit": 100}).json()["data"])

    eventually(
        lambda: len(found := hits()) == 12 and all(h["cover_thumbnail_url"] for h in found),
        "12 hits with their cover thumbnails",
        seen=hits,
    )


def test_each_category_and_number_draws_a_different_jpeg() -> None:
    drawn = {
        draw_demo_photo(category, n)
        for category in ("stay", "vehicle", "equipment", "space", "court", "other")
        for n in range(PER_CATEGORY)
    }
    assert len(drawn) == 6 * PER_CATEGORY
    assert all(data[:3] == b"\xff\xd8\xff" for data in drawn)


def test_listing_photos_rotate_by_variant_and_are_empty_without_uploads() -> None:
    owner = Actor.system()
    photos = {owner.id: {"stay": ["a", "b"]}}
    assert listing_photos(photos, owner, "stay", 0) == ["a", "b"]
    assert listing_photos(photos, owner, "stay", 1) == ["b", "a"]
    assert listing_photos(photos, owner, "court", 1) == []
    assert listing_photos({}, owner, "stay", 0) == []
