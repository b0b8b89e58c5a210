"""The media view and the photo fields of the listings view and search documents, fed by
the real use cases (in-memory store, SQLite views)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine, select

from application.listings import Listings
from application.media import MediaLibrary
from infrastructure.images import PillowImages
from infrastructure.media_catalog import EventStoreMediaCatalog
from infrastructure.media_files import FileMediaStore
from infrastructure.views_db import create_views_engine
from projections.listings import ListingsView, get_listing
from projections.media import MediaView, get_media
from projections.runner import ProjectionRunner
from projections.search_documents import SearchDocumentsView, all_rows
from tests import image_files as f
from tests.builders import NOW, World, listing_spec, make_world


@pytest.fixture
def world(tmp_path: Path) -> World:
    world = make_world()
    catalog = EventStoreMediaCatalog(world.store)
    world.listings = Listings(world.store, service_fee_bp=1200, commission_bp=300, media=catalog)
    return world


@pytest.fixture
def library(world: World, tmp_path: Path) -> MediaLibrary:
    return MediaLibrary(world.store, FileMediaStore(tmp_path / "media"), PillowImages())


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}", pool_size=2)
    yield engine
    engine.dispose()


def views() -> list[Any]:
    return [MediaView(), ListingsView(), SearchDocumentsView()]


@pytest.fixture
def runner(world: World, engine: Engine) -> ProjectionRunner:
    return ProjectionRunner(world.store, engine, views(), batch_size=3)


def upload(world: World, library: MediaLibrary, width: int = 30) -> UUID:
    media, _ = library.upload(world.owner, f.jpeg(width, 20), NOW)
    return media.id


def document(runner: ProjectionRunner, engine: Engine, listing_id: UUID) -> dict[str, Any]:
    runner.catch_up()
    with engine.connect() as conn:
        rows = all_rows(conn, runner.tables("search_documents"), None, 100)
    return next(r for r in rows if r["id"] == listing_id)


def test_the_media_row_holds_the_owner_type_and_each_size(
    world: World, library: MediaLibrary, runner: ProjectionRunner, engine: Engine
) -> None:
    media, _ = library.upload(world.owner, f.png_with_metadata(), NOW)

    runner.catch_up()
    with engine.connect() as conn:
        row = get_media(conn, runner.tables("media"), media.id)

    assert row is not None
    assert (row["owner_id"], row["content_type"], row["version"]) == (
        world.owner.id,
        "image/png",
        1,
    )
    assert row["sizes"] == media.sizes


def test_listing_view_and_search_document_follow_photos_and_cover(
    world: World, library: MediaLibrary, runner: ProjectionRunner, engine: Engine
) -> None:
    a, b = upload(world, library, 30), upload(world, library, 31)
    listing_id, _ = world.listings.create(world.owner, listing_spec(photos=[str(a), str(b)]), NOW)
    first = document(runner, engine, listing_id)
    world.listings.update(world.owner, listing_id, {"cover_photo_id": str(b)}, NOW)
    changed = document(runner, engine, listing_id)
    world.listings.update(world.owner, listing_id, {"photos": []}, NOW)
    none = document(runner, engine, listing_id)
    world.listings.update(world.owner, listing_id, {"title": "Retitled"}, NOW)
    untouched = document(runner, engine, listing_id)

    assert first["cover_thumbnail_url"] == f"/api/v1/media/{a}/thumb"
    assert changed["cover_thumbnail_url"] == f"/api/v1/media/{b}/thumb"
    assert none["cover_thumbnail_url"] is None
    assert untouched["cover_thumbnail_url"] is None
    world.listings.update(world.owner, listing_id, {"photos": [str(a)]}, NOW)
    runner.catch_up()
    with engine.connect() as conn:
        public = get_listing(conn, runner.tables("listings"), listing_id)
    assert public is not None
    assert public["cover_photo_id"] == str(a)
    assert public["photos"] == [
        {
            "id": str(a),
            "urls": {
                size: f"/api/v1/media/{a}/{size}" for size in ("original", "display", "thumb")
            },
        }
    ]


def test_a_rebuild_gives_the_same_rows_as_incremental_processing(
    world: World, library: MediaLibrary, runner: ProjectionRunner, engine: Engine, tmp_path: Path
) -> None:
    a, b = upload(world, library, 30), upload(world, library, 40)
    listing_id, _ = world.listings.create(world.owner, listing_spec(photos=[str(a)]), NOW)
    runner.catch_up()  # incremental: page by page as the events came
    world.listings.update(world.owner, listing_id, {"photos": [str(b), str(a)]}, NOW)
    runner.catch_up()
    fresh = create_views_engine(f"sqlite:///{tmp_path / 'fresh.db'}", pool_size=2)
    try:
        rebuilt = ProjectionRunner(world.store, fresh, views(), batch_size=1000)
        rebuilt.setup()
        rebuilt.catch_up()

        def rows(r: ProjectionRunner, e: Engine, name: str, table: str) -> list[Any]:
            t = r.tables(name)[table]
            with e.connect() as conn:
                return sorted(map(tuple, conn.execute(select(t))), key=str)

        for name, table in (("media", "media"), ("search_documents", "documents")):
            assert rows(runner, engine, name, table) == rows(rebuilt, fresh, name, table)
    finally:
        fresh.dispose()
