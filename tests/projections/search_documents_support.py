"""Helpers of the search documents view tests: a listing's row, day numbers, placing."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import Engine

from application.search_sync import EPOCH_ORDINAL
from projections.runner import ProjectionRunner
from projections.search_documents import all_rows
from tests.builders import NOW, World

TODAY = NOW.date()  # 2026-06-01
OPEN_ALL_DAY = {d: [["08:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def row_of(runner: ProjectionRunner, engine: Engine, listing_id: UUID) -> dict[str, Any]:
    runner.catch_up()
    with engine.connect() as conn:
        rows = all_rows(conn, runner.tables("search_documents"), None, 1000)
    return next(r for r in rows if r["id"] == listing_id)


def nights(*isodates: str) -> list[int]:
    return [date.fromisoformat(d).toordinal() for d in isodates]


def day_numbers(*isodates: str) -> list[int]:
    return [n - EPOCH_ORDINAL for n in nights(*isodates)]


def place(world: World, listing_id: UUID, start: str, end: str, quantity: int = 1) -> UUID:
    booking_id, _ = world.bookings.place(
        world.renter, listing_id, start=start, end=end, quantity=quantity, guests=1, at=NOW
    )
    return booking_id
