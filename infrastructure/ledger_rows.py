"""The stored events `application.ledger.verify` reads, straight from PostgreSQL.

The library's `select_notifications` selects every column (the hash too), builds a dict per
row, a `UUID` per originator id and a `Notification` per event; verification needs five
values as tuples, the id as text. Binary results skip text parsing of bytea and integers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from application.ledger import ENTRY_TOPICS
from application.ledger_lines import EventRows, RawEvent, RecordedLedger
from application.store import EventStore
from infrastructure.ledger_view_rows import LedgerViewRows

PAGE = 5000  # positions per query: a range, so PostgreSQL sorts only its own rows


def event_rows(store: EventStore) -> EventRows | None:
    """A fast `EventRows` when the store is on PostgreSQL; None (the generic reader) if not.
    With plain JSON states it also reads the recorded ledger in SQL (`recorded_ledger`): the
    ledger view's typed rows as far as they can be trusted, the entries' JSON after that."""
    recorder = store.recorder
    if not isinstance(recorder, PostgresApplicationRecorder):
        return None
    rows = PostgresEventRows(recorder)
    # With a cipher or a compressor the stored bytes are not JSON for SQL to read: the
    # rows alone (no `recorded_ledger`), decoded in Python.
    plain = store.mapper.cipher is None and store.mapper.compressor is None
    return rows if plain else rows.__call__


class PostgresEventRows:
    def __init__(self, recorder: PostgresApplicationRecorder) -> None:
        self.datastore = recorder.datastore
        names = {
            "schema": Identifier(self.datastore.schema),
            "table": Identifier(recorder.events_table_name),
        }
        self.query = SQL(
            "SELECT notification_id, originator_id::text, originator_version, topic, state "
            "FROM {schema}.{table} WHERE notification_id > %s AND notification_id <= %s "
            "AND topic = ANY(%s) ORDER BY notification_id"
        ).format(**names)
        self.entries = SQL(_ENTRIES).format(**names)
        self.totals = SQL(_TOTALS).format(**names)
        self.view = LedgerViewRows(names)

    def __call__(self, topics: Sequence[str], after: int, stop: int) -> Iterator[RawEvent]:
        while after < stop:
            end = min(after + PAGE, stop)
            # A connection per page: none is held while the caller works on the rows.
            with (
                self.datastore.get_connection() as conn,
                conn.cursor(row_factory=tuple_row, binary=True) as cur,
            ):
                cur.execute(self.query, (after, end, list(topics)))
                page: list[RawEvent] = cur.fetchall()
            yield from page
            after = end

    def recorded_ledger(self, stop: int) -> RecordedLedger:
        """The journal entries up to `stop`: canonical lines per entry, balance and totals per
        currency. Typed rows of the ledger view as far as it holds exactly the journal's
        entries (infrastructure/ledger_view_rows.py), the entries' JSON after that."""
        read = _Recorded()
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row, binary=True) as cur,
        ):
            # One snapshot: the view's position, its rows and the entries after them.
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            viewed = self.view.position(cur, ENTRY_TOPIC, stop)
            if viewed:
                read.add_viewed(cur.execute(self.view.entries, {"p": viewed}).fetchall())
            after = viewed
            while after < stop:
                end = min(after + ENTRY_PAGE, stop)
                read.add(cur.execute(self.entries, (ENTRY_TOPIC, after, end)).fetchall())
                after = end
            if not read.regular:  # a malformed ledger: totals of every posting, as they are
                read.debits, read.credits = {}, {}
                read.add_totals(cur.execute(self.totals, (ENTRY_TOPIC, viewed, stop)))
            if viewed:  # the view's totals: one pass over its postings, not a sum per entry
                read.add_totals(cur.execute(self.view.totals, (viewed,)))
        return RecordedLedger(read.lines, read.balanced, read.debits, read.credits)


class _Recorded:
    """Folds rows of recorded entries into the ledger: the JSON path's (entry id, lines,
    balanced, currency, debit, credit), the view's (entry id, lines, balanced) and totals."""

    def __init__(self) -> None:
        self.lines: dict[str, list[str]] = {}
        self.balanced, self.regular = True, True
        self.debits: dict[str, int] = {}
        self.credits: dict[str, int] = {}

    def add(self, rows: Iterable[tuple[Any, ...]]) -> None:
        lines, debits, credits = self.lines, self.debits, self.credits
        balanced = self.balanced
        for entry_id, entry_lines, entry_balanced, currency, debit, credit in rows:
            lines[entry_id] = entry_lines
            balanced = balanced and entry_balanced
            if currency is None:  # not one currency in well-formed postings
                self.regular = False
                continue
            # Keys only for currencies with postings on that side, as a GROUP BY.
            if debit is not None:
                debits[currency] = debits.get(currency, 0) + int(debit)
            if credit is not None:
                credits[currency] = credits.get(currency, 0) + int(credit)
        self.balanced = balanced

    def add_viewed(self, rows: list[tuple[str, list[str], bool]]) -> None:
        """The view's (entry id, lines, balanced) rows; its totals come from `add_totals`."""
        self.lines.update([(row[0], row[1]) for row in rows])
        self.balanced = self.balanced and all([row[2] for row in rows])

    def add_totals(self, rows: Iterable[tuple[Any, ...]]) -> None:
        for currency, is_debit, total in rows:
            totals = self.debits if is_debit else self.credits
            totals[currency] = totals.get(currency, 0) + int(total)


ENTRY_TOPIC = ENTRY_TOPICS[0]
ENTRY_PAGE = 50_000  # positions per query
_POSTINGS = (
    "jsonb_array_elements(convert_from(e.state, 'UTF8')::jsonb -> 'postings') "
    "WITH ORDINALITY AS x(p, n)"
)
_AMOUNT = "(x.p ->> 'amount')::bigint"
# One parse of each entry's state (the JSON parse is most of PostgreSQL's work here): its
# lines in recorded order, and, when every posting has an account side, amount and the
# entry's one currency (`regular`, what the ledger process records), whether it balances
# (every amount positive, debits equal credits; anything not "debit" is a credit) and its
# debit and credit sums for the totals. Any other entry (no postings, several currencies,
# missing fields) is judged per currency by a second parse of its own, which only such an
# entry pays, and its currency comes back NULL so the totals are read posting by posting.
# The sums come as text: a numeric makes a Decimal per row, and int() of text is cheaper.
_ENTRIES = f"""
SELECT e.originator_id::text, coalesce(l.lines, '{{{{}}}}'::text[]),
  CASE WHEN l.regular THEN l.positive AND coalesce(l.debit, 0) = coalesce(l.credit, 0)
  ELSE coalesce((SELECT bool_and(c.ok) FROM (
      SELECT bool_and({_AMOUNT} > 0)
             AND sum(CASE WHEN x.p ->> 'side' = 'debit' THEN {_AMOUNT} ELSE -{_AMOUNT} END) = 0
             AS ok
      FROM {_POSTINGS} GROUP BY x.p ->> 'currency') AS c), false) END,
  CASE WHEN l.regular THEN l.currency END, l.debit::text, l.credit::text
FROM {{schema}}.{{table}} AS e CROSS JOIN LATERAL (
  SELECT array_agg(concat_ws('|', y.account, y.side, y.amount, y.currency) ORDER BY y.n) AS lines,
    count(*) > 0 AND count(y.account) = count(*) AND count(y.side) = count(*)
      AND count(y.amount) = count(*) AND count(y.currency) = count(*)
      AND min(y.currency) = max(y.currency) AS regular,
    bool_and(y.amount > 0) AS positive,
    min(y.currency) AS currency,
    sum(y.amount) FILTER (WHERE y.side = 'debit') AS debit,
    sum(y.amount) FILTER (WHERE y.side <> 'debit') AS credit
  FROM (SELECT x.p ->> 'account' AS account, x.p ->> 'side' AS side, {_AMOUNT} AS amount,
               x.p ->> 'currency' AS currency, x.n
        FROM {_POSTINGS}) AS y) AS l
WHERE e.topic = %s AND e.notification_id > %s AND e.notification_id <= %s
ORDER BY e.notification_id
"""
_TOTALS = f"""
SELECT x.p ->> 'currency', x.p ->> 'side' = 'debit', sum({_AMOUNT})
FROM {{schema}}.{{table}} AS e CROSS JOIN LATERAL {_POSTINGS}
WHERE e.topic = %s AND e.notification_id > %s AND e.notification_id <= %s
GROUP BY 1, 2
"""
