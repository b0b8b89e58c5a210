"""Uploads, the media catalog and listing photos, on the in-memory event store with the
real image processor and a file store in a temporary directory."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from application.context import Actor
from application.listings import Listings
from application.media import MediaLibrary
from domain.errors import DomainError, RuleViolation
from domain.media import Media, MediaTooLarge, UnsupportedMedia
from infrastructure.images import PillowImages
from infrastructure.media_catalog import EventStoreMediaCatalog
from infrastructure.media_files import FileMediaStore
from tests import image_files as f
from tests.builders import NOW, World, listing_spec, make_world


@pytest.fixture
def world() -> World:
    world = make_world()
    catalog = EventStoreMediaCatalog(world.store)
    world.listings = Listings(world.store, service_fee_bp=1200, commission_bp=300, media=catalog)
    return world


@pytest.fixture
def library(world: World, tmp_path: Path) -> MediaLibrary:
    return MediaLibrary(world.store, FileMediaStore(tmp_path / "media"), PillowImages())


def upload(library: MediaLibrary, who: Actor, data: bytes | None = None) -> UUID:
    media, position = library.upload(who, data or f.jpeg(), NOW)
    assert position > 0
    return media.id


def stored_files(library: MediaLibrary) -> list[Path]:
    root = library.files.root  # type: ignore[attr-defined]
    return [p for p in Path(root).rglob("*") if p.is_file()] if Path(root).exists() else []


# -- uploads --------------------------------------------------------------------------------


def test_an_upload_records_one_event_with_each_size_digest(
    world: World, library: MediaLibrary
) -> None:
    media_id = upload(library, world.owner, f.jpeg(2000, 1000))

    media = world.store.load(media_id, "media")
    assert isinstance(media, Media) and media.version == 1
    assert media.owner_id == world.owner.id and media.content_type == "image/jpeg"
    assert {k: (v["width"], v["height"]) for k, v in media.sizes.items()} == {
        "original": (2000, 1000),
        "display": (1600, 800),
        "thumb": (400, 200),
    }
    for size in media.sizes.values():
        data = library.files.read(size["sha256"])
        assert data is not None and len(data) == size["bytes"]


def test_the_same_image_uploaded_twice_is_two_media_sharing_files(
    world: World, library: MediaLibrary
) -> None:
    data = f.jpeg(2000, 1000)
    one = world.store.load(upload(library, world.owner, data), "media")
    two = world.store.load(upload(library, world.renter, data), "media")

    assert one.id != two.id and one.sizes == two.sizes
    assert len(stored_files(library)) == 3  # original, display, thumb: once each


def test_a_size_equal_to_the_original_shares_its_file(world: World, library: MediaLibrary) -> None:
    media = world.store.load(upload(library, world.owner, f.jpeg(900, 700)), "media")

    assert media.sizes["display"] == media.sizes["original"]  # nothing to shrink
    assert len(stored_files(library)) == 2


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (f.truncated_jpeg(), UnsupportedMedia),
        (f.SVG, UnsupportedMedia),
        (b"", UnsupportedMedia),
        (f.png_bomb(), MediaTooLarge),
        (f.oversized_jpeg(), MediaTooLarge),
    ],
    ids=["truncated", "svg", "empty", "bomb", "oversized"],
)
def test_a_refused_upload_records_and_stores_nothing(
    world: World, library: MediaLibrary, data: bytes, error: type[DomainError]
) -> None:
    before = world.store.current_position()

    with pytest.raises(error):
        library.upload(world.owner, data, NOW)

    assert world.store.current_position() == before
    assert stored_files(library) == []


# -- the catalog ----------------------------------------------------------------------------


def test_the_catalog_names_ids_that_are_not_the_owners_media(
    world: World, library: MediaLibrary
) -> None:
    mine, theirs = upload(library, world.owner), upload(library, world.renter)
    listing_id, _ = world.listings.create(world.owner, listing_spec(), NOW)
    unknown = uuid.uuid4()
    catalog = EventStoreMediaCatalog(world.store)

    assert catalog.missing(world.owner.id, [mine]) == []
    assert catalog.missing(world.owner.id, [mine, theirs, unknown, listing_id, theirs]) == [
        theirs,
        unknown,
        listing_id,
    ]


# -- listing photos -------------------------------------------------------------------------


def spec_with(photos: list[UUID], **more: Any) -> dict[str, Any]:
    return listing_spec(photos=[str(p) for p in photos], **more)


def test_photos_keep_their_order_and_the_cover_defaults_to_the_first(
    world: World, library: MediaLibrary
) -> None:
    photos = [upload(library, world.owner, f.jpeg(10 + i, 10)) for i in range(3)]

    listing_id, _ = world.listings.create(world.owner, spec_with(photos[::-1]), NOW)

    spec = world.listings.get(listing_id, viewer=world.owner).spec
    assert spec["photos"] == [str(p) for p in photos[::-1]]
    assert spec["cover_photo_id"] == str(photos[-1])


def test_someone_elses_or_unknown_media_are_refused_by_id(
    world: World, library: MediaLibrary
) -> None:
    mine, theirs, unknown = upload(library, world.owner), upload(library, world.renter), uuid4()
    before = world.store.current_position()

    with pytest.raises(RuleViolation) as caught:
        world.listings.create(world.owner, spec_with([mine, theirs, unknown]), NOW)

    assert caught.value.code == "unknown_photos"
    assert str(theirs) in caught.value.detail and str(unknown) in caught.value.detail
    assert str(mine) not in caught.value.detail
    assert world.store.current_position() == before


def uuid4() -> UUID:
    return uuid.uuid4()


def test_editing_photos_keeps_a_cover_that_stays_and_resets_one_that_goes(
    world: World, library: MediaLibrary
) -> None:
    a, b, c = (upload(library, world.owner, f.jpeg(20, 10 + i)) for i in range(3))
    listing_id, _ = world.listings.create(
        world.owner, spec_with([a, b], cover_photo_id=str(b)), NOW
    )

    world.listings.update(world.owner, listing_id, {"photos": [str(c), str(b)]}, NOW)
    kept = world.listings.get(listing_id, viewer=world.owner).spec
    world.listings.update(world.owner, listing_id, {"photos": [str(c), str(a)]}, NOW)
    reset = world.listings.get(listing_id, viewer=world.owner).spec

    assert (kept["photos"], kept["cover_photo_id"]) == ([str(c), str(b)], str(b))
    assert (reset["photos"], reset["cover_photo_id"]) == ([str(c), str(a)], str(c))


def test_a_cover_outside_the_photos_duplicates_and_more_than_20_are_refused(
    world: World, library: MediaLibrary
) -> None:
    a = upload(library, world.owner)
    listing_id, _ = world.listings.create(world.owner, spec_with([a]), NOW)

    bad = [
        {"cover_photo_id": str(uuid4())},
        {"photos": [str(a), str(a)]},
        {"photos": [str(uuid4()) for _ in range(21)]},
    ]
    for changes in bad:
        with pytest.raises(RuleViolation) as caught:
            world.listings.update(world.owner, listing_id, changes, NOW)
        assert caught.value.code == "invalid_listing", changes


def test_an_admin_edit_checks_photos_against_the_listings_owner(
    world: World, library: MediaLibrary
) -> None:
    owners, admins = upload(library, world.owner), upload(library, world.admin)
    listing_id, _ = world.listings.create(world.owner, listing_spec(), NOW)

    world.listings.update(world.admin, listing_id, {"photos": [str(owners)]}, NOW)
    with pytest.raises(RuleViolation):
        world.listings.update(world.admin, listing_id, {"photos": [str(admins)]}, NOW)


def test_without_a_catalog_photos_are_refused_but_listings_without_them_work() -> None:
    world = make_world()  # Listings built without a media catalog

    world.listings.create(world.owner, listing_spec(), NOW)
    with pytest.raises(RuleViolation):
        world.listings.create(world.owner, spec_with([uuid4()]), NOW)
