"""SQLite search connections read through the OS page cache: no per-connection mmap of
views.db and a small page cache, so pooled connections do not each keep a resident copy of
the pages they touched (RSS counts every mapping's pages again)."""

from __future__ import annotations

from pathlib import Path

from application.search import SearchQuery
from infrastructure.search_sqlite import SqliteSearchIndex
from infrastructure.views_db import create_views_engine


def test_a_connection_that_answered_a_search_does_not_mmap_the_views_file(
    tmp_path: Path,
) -> None:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}", pool_size=1)
    try:
        index = SqliteSearchIndex(engine)
        index.ensure_settings()
        index.search(SearchQuery(q="cottage"))
        with engine.connect() as conn:  # the pool's one connection, the search's
            assert conn.info.get("rb_search_ready")
            raw = conn.connection.driver_connection
            assert raw is not None
            assert raw.execute("PRAGMA mmap_size").fetchone() == (0,)
            assert raw.execute("PRAGMA cache_size").fetchone() == (-2048,)
            assert raw.execute("PRAGMA temp_store").fetchone() == (2,)  # MEMORY
    finally:
        engine.dispose()
