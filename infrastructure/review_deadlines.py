"""The scheduler's source of review publications, read from the review deadlines view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from application.reviews import PUBLISH_REVIEWS
from domain.deadlines import Deadline, DeadlineSource
from projections.base import ViewTables
from projections.review_deadlines import ReviewDeadlinesView, due_publications


class ViewReviewDeadlineSource(DeadlineSource):
    def __init__(self, engine: Engine, tables: Any | None = None) -> None:
        self.engine = engine
        self.tables = tables if tables is not None else ViewTables(ReviewDeadlinesView())

    def due(self, at: datetime, limit: int) -> list[Deadline]:
        with self.engine.connect() as conn:
            rows = due_publications(conn, self.tables, at, limit)
        return [Deadline(booking, PUBLISH_REVIEWS, due, version) for booking, due, version in rows]
