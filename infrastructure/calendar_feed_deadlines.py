"""The scheduler's source of due calendar feeds, read from the calendar feeds view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from application.calendar_sync import SYNC_CALENDAR_FEED
from domain.deadlines import Deadline, DeadlineSource
from projections.base import ViewTables
from projections.calendar_feeds import CalendarFeedsView, due_feeds


class ViewCalendarFeedSource(DeadlineSource):
    def __init__(self, engine: Engine, tables: Any | None = None) -> None:
        self.engine = engine
        self.tables = tables if tables is not None else ViewTables(CalendarFeedsView())

    def due(self, at: datetime, limit: int) -> list[Deadline]:
        with self.engine.connect() as conn:
            rows = due_feeds(conn, self.tables, at, limit)
        return [Deadline(feed, SYNC_CALENDAR_FEED, due, v) for feed, due, v in rows]
