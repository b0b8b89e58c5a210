"""Keyset pages both ways: walking forward with `next_key` and back with `prev_key` visits
every row once, in the stable order of the keys (ties on the first key broken by the id), on
both directions of order; a forged key is a 422, and rows added meanwhile do not shift a page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, Uuid, create_engine

from domain.errors import RuleViolation
from projections.keyset import KeysetPage, keyset_page

T0 = datetime(2027, 1, 1, tzinfo=UTC)
metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(10), nullable=False),
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    path: Path = tmp_path_factory.mktemp("keyset") / "views.db"
    engine = create_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    return engine


def _fill(engine: Engine, minutes: list[int]) -> list[dict[str, Any]]:
    rows = [{"id": uuid4(), "at": T0 + timedelta(minutes=m), "kind": "a"} for m in minutes]
    with engine.begin() as conn:
        conn.execute(things.delete())
        if rows:
            conn.execute(things.insert(), rows)
    return rows


def _page(engine: Engine, descending: bool, limit: int, **bound: Any) -> KeysetPage:
    with engine.connect() as conn:
        return keyset_page(
            conn, things, [things.c.kind == "a"], (things.c.at, things.c.id),
            descending=descending, limit=limit, **bound,
        )  # fmt: skip


def _ids(page: KeysetPage) -> list[UUID]:
    return [r["id"] for r in page.rows]


def _walk_both_ways(engine: Engine, minutes: list[int], limit: int, descending: bool) -> None:
    rows = _fill(engine, minutes)
    expected = [r["id"] for r in sorted(rows, key=lambda r: (r["at"], str(r["id"])))]
    if descending:
        expected.reverse()
    pages = [_page(engine, descending, limit)]
    assert pages[0].prev_key is None
    while pages[-1].next_key is not None:
        pages.append(_page(engine, descending, limit, after=pages[-1].next_key))
    assert [i for p in pages for i in _ids(p)] == expected
    assert all(len(p.rows) == limit for p in pages[:-1])
    back = pages[-1]
    for earlier in reversed(pages[:-1]):
        assert back.prev_key is not None
        back = _page(engine, descending, limit, before=back.prev_key)
        assert _ids(back) == _ids(earlier)
    assert back.prev_key is None


@settings(max_examples=40, deadline=None)
@given(
    minutes=st.lists(st.integers(0, 5), max_size=12),  # many ties on `at`
    limit=st.integers(1, 5),
    descending=st.booleans(),
)
def test_walking_forward_then_back_visits_every_row_once_in_order(
    engine: Engine, minutes: list[int], limit: int, descending: bool
) -> None:
    _walk_both_ways(engine, minutes, limit, descending)


@pytest.mark.postgres
def test_pages_walk_both_ways_on_postgres(pg_url: str) -> None:
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        metadata.create_all(engine)
        for descending in (False, True):
            _walk_both_ways(engine, [3, 1, 1, 1, 2, 0, 3, 3], 3, descending)
    finally:
        engine.dispose()


def test_a_page_does_not_shift_when_rows_are_added_before_it(engine: Engine) -> None:
    _fill(engine, [1, 2, 3, 4, 5])
    first = _page(engine, False, 2)
    second = _page(engine, False, 2, after=first.next_key)
    with engine.begin() as conn:
        conn.execute(things.insert(), [{"id": uuid4(), "at": T0, "kind": "a"}])
    again = _page(engine, False, 2, after=first.next_key)
    assert _ids(again) == _ids(second)
    previous = _page(engine, False, 2, before=again.prev_key)
    assert _ids(previous) == _ids(first) and previous.prev_key is not None  # the new row


@pytest.mark.parametrize(
    "bound",
    [["x", "y"], ["2027-01-01T00:00:00+00:00"], ["2027-01-01T00:00:00+00:00", "not-a-uuid"]],
)
def test_a_forged_key_is_refused(engine: Engine, bound: list[str]) -> None:
    with pytest.raises(RuleViolation) as refused:
        _page(engine, False, 2, after=bound)
    assert refused.value.code == "bad_cursor"
