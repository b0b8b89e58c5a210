"""The set-based write path (`projections.bulk.pg_upsert`: one binary array per column, cast
to the column's type) stores exactly what the per-row path (SQLAlchemy binds, row by row)
stores, for every amount the domain allows: money typed in major units (`minor_units`, any
currency exponent) up to MAX_MINOR_UNITS and its negation (refunds, ledger credits), and the
views' floating columns (coordinates, ratings). No view has a numeric column (money is
integer minor units in bigint), so no array cast can round: this holds that in place."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Column, Double, Engine, MetaData, Table, delete, insert, select

from domain.money import MAX_MINOR_UNITS, minor_units
from infrastructure.views_db import create_views_engine
from projections.bulk import pg_upsert

pytestmark = pytest.mark.postgres

metadata = MetaData()
COLUMNS = ("id", "amount", "typed", "lat", "rating")


def _table(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=False),
        Column("amount", BigInteger, nullable=False),
        Column("typed", BigInteger, nullable=True),
        Column("lat", Double, nullable=False),
        Column("rating", Double, nullable=False),
    )


by_array, by_row = _table("hd_money_by_array"), _table("hd_money_by_row")

typed = st.tuples(
    st.decimals(min_value=0, max_value=Decimal(10) ** 12, places=3),
    st.sampled_from(["EUR", "JPY", "KWD"]),
).map(lambda d: minor_units(f"{d[0]:f}".rstrip("0").rstrip(".") or "0", d[1]))
rows = st.lists(
    st.fixed_dictionaries(
        {
            "amount": st.integers(-MAX_MINOR_UNITS, MAX_MINOR_UNITS),
            "typed": typed,
            "lat": st.floats(-90, 90, allow_nan=False),
            "rating": st.floats(0, 5, allow_nan=False),
        }
    ),
    max_size=30,
)


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = create_views_engine(pg_url, pool_size=1)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def _stored(engine: Engine, table: Table) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(table.c.id))]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(drawn=rows)
def test_the_array_path_stores_what_the_per_row_path_stores(
    engine: Engine, drawn: list[dict[str, Any]]
) -> None:
    page = [{"id": i, **row} for i, row in enumerate(drawn)]
    with engine.begin() as conn:
        conn.execute(delete(by_array))
        conn.execute(delete(by_row))
        if page:
            pg_upsert(conn, by_array, COLUMNS, page, key=("id",))
            for row in page:
                conn.execute(insert(by_row).values(**row))
    assert _stored(engine, by_array) == _stored(engine, by_row)
    stored = _stored(engine, by_array)
    assert [(r[1], r[2]) for r in stored] == [(row["amount"], row["typed"]) for row in page]
