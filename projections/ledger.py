"""Ledger views over recorded journal entries: entries (by booking, by account) and account
balances (per account and currency; owner accounts carry the owner's id).

Balances are running sums, so a page first asks which of its entries the view already holds
and adds only the new ones: a replay or a rebuild converges to the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from domain.ledger import JournalEntry as _JournalEntry
from domain.ledger import owner_payable, owner_receivable
from projections.base import Projection
from projections.listings import check_limit, log_order_page, rfc3339, utc

JournalEntry: Any = _JournalEntry  # @event classes are made at runtime
OWNER_PREFIXES = (owner_payable(UUID(int=0))[:-36], owner_receivable(UUID(int=0))[:-36])


def owner_of(account: str) -> UUID | None:
    """The owner an owner account belongs to (None for any other account)."""
    for prefix in OWNER_PREFIXES:
        if account.startswith(prefix):
            try:
                return UUID(account[len(prefix) :])
            except ValueError:
                return None
    return None


class LedgerView(Projection):
    name = "ledger"
    topics = (get_topic(JournalEntry.Recorded),)
    version = 1

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        entries = Table(
            f"ledger_entries{suffix}",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("position", BigInteger, nullable=False, unique=True),
            Column("source_id", Uuid, nullable=False),
            Column("source_version", Integer, nullable=False),
            Column("source_type", String(100), nullable=False),
            Column("booking_id", Uuid, nullable=False),
            Column("currency", String(3), nullable=False),
            Column("postings", JSON, nullable=False),
            Column("at", DateTime(timezone=True), nullable=False),
        )
        Index(None, entries.c.booking_id, entries.c.position)
        postings = Table(
            f"ledger_postings{suffix}",
            metadata,
            Column("entry_id", Uuid, primary_key=True),
            Column("line", Integer, primary_key=True, autoincrement=False),
            Column("position", BigInteger, nullable=False),
            Column("account", String(200), nullable=False),
            Column("side", String(6), nullable=False),
            Column("amount", BigInteger, nullable=False),
            Column("currency", String(3), nullable=False),
        )
        Index(None, postings.c.account, postings.c.position)
        balances = Table(
            f"ledger_balances{suffix}",
            metadata,
            Column("account", String(200), primary_key=True),
            Column("currency", String(3), primary_key=True),
            Column("owner_id", Uuid, index=True),
            Column("debits", BigInteger, nullable=False),
            Column("credits", BigInteger, nullable=False),
            Column("balance", BigInteger, nullable=False),  # debits - credits
            Column("entries", Integer, nullable=False),
        )
        return {"entries": entries, "postings": postings, "balances": balances}

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        recorded = [(e, p) for e, p in events if isinstance(e, JournalEntry.Recorded)]
        if not recorded:
            return
        table = tables["entries"]
        ids = [e.originator_id for e, _ in recorded]
        known = set(conn.execute(select(table.c.id).where(table.c.id.in_(ids))).scalars())
        entry_rows, posting_rows = [], []
        sums: dict[tuple[str, str], dict[str, Any]] = {}
        for event, position in recorded:
            if event.originator_id in known:
                continue
            known.add(event.originator_id)
            entry_rows.append(entry_row(event, position))
            for line, p in enumerate(event.postings):
                amount, side = int(p["amount"]), p["side"]
                posting_rows.append(
                    {
                        "entry_id": event.originator_id,
                        "line": line,
                        "position": position,
                        "account": p["account"],
                        "side": side,
                        "amount": amount,
                        "currency": p["currency"],
                    }
                )
                row = sums.setdefault(
                    (p["account"], p["currency"]),
                    {
                        "account": p["account"],
                        "currency": p["currency"],
                        "owner_id": owner_of(p["account"]),
                        "debits": 0,
                        "credits": 0,
                        "balance": 0,
                        "entries": 0,
                    },
                )
                row["debits" if side == "debit" else "credits"] += amount
                row["balance"] += amount if side == "debit" else -amount
                row["entries"] += 1
        if not entry_rows:
            return
        conn.execute(tables["entries"].insert(), entry_rows)
        conn.execute(tables["postings"].insert(), posting_rows)
        add_to_balances(conn, tables["balances"], list(sums.values()))


def entry_row(event: Any, position: int) -> dict[str, Any]:
    return {
        "id": event.originator_id,
        "position": position,
        "source_id": event.source_originator_id,
        "source_version": event.source_version,
        "source_type": event.source_type,
        "booking_id": event.booking_id,
        "currency": event.currency,
        "postings": list(event.postings),
        "at": utc(event.at),
    }


def add_to_balances(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Adds each row's sums to the account's balance (inserting the account if new)."""
    if not rows:
        return
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table)
    summed = ("debits", "credits", "balance", "entries")
    stmt = stmt.on_conflict_do_update(
        index_elements=["account", "currency"],
        set_={c: table.c[c] + stmt.excluded[c] for c in summed},
    )
    conn.execute(stmt, rows)


# -- queries -------------------------------------------------------------------------------


def account_balances(
    conn: Connection,
    tables: Any,
    owner_id: UUID | None = None,
    currency: str | None = None,
    prefix: str | None = None,
    *,
    limit: int | None = None,
    after: tuple[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Balances (debits minus credits) by account and currency, ordered by account then
    currency; `after` = the (account, currency) the previous page ended with."""
    table = tables["balances"]
    where = []
    if owner_id is not None:
        where.append(table.c.owner_id == owner_id)
    if currency:
        where.append(table.c.currency == currency.upper())
    if prefix:
        where.append(table.c.account.startswith(prefix, autoescape=True))
    if after is not None:
        account, cur = after
        where.append(
            (table.c.account > account) | ((table.c.account == account) & (table.c.currency > cur))
        )
    stmt = select(table).where(*where).order_by(table.c.account, table.c.currency)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [
        {
            "account": r["account"],
            "currency": r["currency"],
            "owner_id": r["owner_id"],
            "debits": r["debits"],
            "credits": r["credits"],
            "balance": r["balance"],
            "entries": r["entries"],
        }
        for r in conn.execute(stmt).mappings()
    ]


def entries(
    conn: Connection,
    tables: Any,
    booking_id: UUID | None = None,
    account: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Journal entries in the order they were recorded, for a booking and/or touching an
    account; the cursor is the one the previous page returned."""
    table, postings = tables["entries"], tables["postings"]
    limit = check_limit(limit)
    where = []
    if booking_id is not None:
        where.append(table.c.booking_id == booking_id)
    if account:
        where.append(
            table.c.id.in_(select(postings.c.entry_id).where(postings.c.account == account))
        )
    rows, next_cursor = log_order_page(conn, table, where, limit, cursor)
    return [entry_public(r) for r in rows], next_cursor


def entry_public(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "position": row["position"],
        "source_id": row["source_id"],
        "source_version": row["source_version"],
        "source_type": row["source_type"],
        "booking_id": row["booking_id"],
        "currency": row["currency"],
        "postings": [
            {
                "account": p["account"],
                "side": p["side"],
                "amount": int(p["amount"]),
                "currency": p["currency"],
            }
            for p in row["postings"]
        ],
        "at": rfc3339(row["at"]),
    }
