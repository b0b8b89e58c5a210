"""Chooses the search backend: Meilisearch when configured, else the embedded one that
matches the view database (PostgreSQL or SQLite)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from application.search import SearchIndex
from infrastructure.settings import Settings


def build_search_index(settings: Settings, views: Engine) -> SearchIndex:
    if settings.meilisearch_url:
        from infrastructure.search_meilisearch import MeilisearchIndex

        return MeilisearchIndex(settings.meilisearch_url, settings.meilisearch_key)
    if views.dialect.name == "postgresql":
        from infrastructure.search_postgres import PostgresSearchIndex

        return PostgresSearchIndex(views)
    from infrastructure.search_sqlite import SqliteSearchIndex

    # the column store is built off the request path; queries use SQL until it is ready
    return SqliteSearchIndex(views, columns=settings.search_columns)
