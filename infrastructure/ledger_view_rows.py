"""The recorded journal entries as typed rows: the ledger view's, instead of their JSON.

The ledger view (projections/ledger.py) holds every journal entry up to its tracked position
as typed rows (`ledger_entries`, and `ledger_postings`: account, side, amount as bigint minor
units, currency). On PostgreSQL it lives in the event store's database, so verification reads
the entries up to that position from there, which costs PostgreSQL a third of parsing each
entry's JSON, and parses only the entries after it. The view is trusted only as far as it
holds exactly the journal's entries: the same count, each under its entry's id at its
position; anything else (a view behind, rebuilt or of another version, a row added or
removed) and the whole ledger is read from the JSON as before. A view row edited in place
changes the lines compared with the derived ledger, so it shows as a mismatch.
"""

from __future__ import annotations

from typing import Any

from psycopg.sql import SQL, Identifier, Literal
from sqlalchemy import MetaData

from projections.ledger import LedgerView
from projections.tracking import tracking

_VIEW = LedgerView()
_TABLES = _VIEW.define_tables(MetaData(), "")
_NAMES = {
    "entries": Identifier(_TABLES["entries"].name),
    "postings": Identifier(_TABLES["postings"].name),
    "tracking": Identifier(tracking.name),
}
_EXISTS = SQL(
    "SELECT to_regclass({entries}) IS NOT NULL AND to_regclass({postings}) IS NOT NULL "
    "AND to_regclass({tracking}) IS NOT NULL"
).format(
    entries=Literal(_TABLES["entries"].name),
    postings=Literal(_TABLES["postings"].name),
    tracking=Literal(tracking.name),
)
# The view's position (at most the stop) and whether the entries up to it are exactly the
# journal's: as many in the view as in the journal, each matched by position and id
# (positions are unique on both sides, so the counts make it one to one). One statement,
# one pass over the view's entries: each round trip costs a wake-up of both sides, which a
# loaded machine makes tens of milliseconds (issue #9). No row: the view has no position.
_MATCHES = """
WITH t AS (
  SELECT least(position, %(stop)s) AS p FROM {tracking} WHERE name = %(name)s
  AND version = %(version)s
), viewed AS (
  SELECT count(*) AS entries, count(e.notification_id) AS matched
  FROM {entries} AS v LEFT JOIN {schema}.{table} AS e
    ON e.notification_id = v.position AND e.originator_id = v.id AND e.topic = %(topic)s
  WHERE v.position <= (SELECT t.p FROM t)
)
SELECT t.p, viewed.matched = viewed.entries AND viewed.entries = (
  SELECT count(*) FROM {schema}.{table} WHERE topic = %(topic)s AND notification_id <= t.p)
FROM t, viewed
"""
_AMOUNT_SIGNED = "CASE WHEN q.side = 'debit' THEN q.amount ELSE -q.amount END"
_ONE_CURRENCY = "min(p.currency) = max(p.currency)"
# As ledger_rows._ENTRIES, over typed rows (no column is NULL in the view): the postings
# grouped by entry (a third cheaper than joining the entries to them), then the entries
# that have none. A posting moved to another entry or position changes the lines compared.
# Only (id, lines, balanced) per entry: the totals per currency come from `_TOTALS` (one
# cheap pass), so this process decodes and folds half the columns it did (its CPU is the
# critical half of verify; issue #9).
_ENTRIES = f"""
SELECT x.id, x.lines, x.balanced FROM (
  SELECT p.position, p.entry_id::text AS id,
    array_agg(concat_ws('|', p.account, p.side, p.amount, p.currency) ORDER BY p.line) AS lines,
    CASE WHEN {_ONE_CURRENCY}
      THEN bool_and(p.amount > 0) AND coalesce(sum(p.amount) FILTER (WHERE p.side = 'debit'), 0)
           = coalesce(sum(p.amount) FILTER (WHERE p.side <> 'debit'), 0)
    ELSE coalesce((SELECT bool_and(c.ok) FROM (
        SELECT bool_and(q.amount > 0) AND sum({_AMOUNT_SIGNED}) = 0 AS ok
        FROM {{postings}} AS q WHERE q.entry_id = p.entry_id GROUP BY q.currency) AS c), false)
    END AS balanced
  FROM {{postings}} AS p WHERE p.position <= %(p)s GROUP BY p.position, p.entry_id
  UNION ALL
  SELECT v.position, v.id::text, '{{{{}}}}'::text[], false
  FROM {{entries}} AS v
  WHERE v.position <= %(p)s AND NOT EXISTS (SELECT FROM {{postings}} AS q WHERE q.entry_id = v.id)
) AS x ORDER BY x.position
"""
_TOTALS = """
SELECT currency, side = 'debit', sum(amount) FROM {postings} WHERE position <= %s GROUP BY 1, 2
"""


class LedgerViewRows:
    """The statements over the ledger view, for one events table."""

    def __init__(self, names: dict[str, Identifier]) -> None:
        self.matches = SQL(_MATCHES).format(**names, **_NAMES)
        self.entries = SQL(_ENTRIES).format(**_NAMES)
        self.totals = SQL(_TOTALS).format(**_NAMES)

    def position(self, cur: Any, topic: str, stop: int) -> int:
        """Up to where (at most `stop`) the view holds exactly the journal's entries; 0 when
        it does not, or there is no view. Call it in the transaction that reads the rows."""
        if not cur.execute(_EXISTS).fetchone()[0]:
            return 0
        params = {"topic": topic, "stop": stop, "name": _VIEW.name, "version": _VIEW.version}
        row = cur.execute(self.matches, params).fetchone()
        if row is None or row[0] <= 0 or not row[1]:
            return 0
        return int(row[0])
