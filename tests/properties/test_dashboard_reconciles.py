"""Dashboard and analytics money reconciles with the ledger for any random history.

Listings of a few owners in two categories, bookings placed over several days, paid, and then
any of: refunds (succeeded, failed or pending), cancellations, deposits held and captured,
payouts sent and reversed, chargebacks won or lost. The ledger process records the journal
entries; the ledger and analytics views follow the log. Then, for the whole history and for
any split of its days:
- each owner's dashboard net minus payouts = minus that owner's ledger balance;
- all owners' fees = platform fee revenue (fees net of fees refunded) in the ledger;
- GMV = net + fees, and GMV - payouts = what sits with the processor or went to it
  (processor balance, refunds payable, disputed funds, processor/dispute fees and losses);
- the analytics totals equal the sum of its buckets, categories and owners' dashboards, and
  ranges add up (a split of the days sums to the whole);
- counts (bookings, cancellations, disputes opened, new listings) add up the same way, and
  the disputes counted are the disputes opened.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from application.ledger import LedgerProcess
from domain import ledger as L
from domain.booking import CONFIRMED, Booking
from domain.dispute import Dispute
from domain.listing import Listing
from domain.money import Money
from domain.payment import Payment
from infrastructure.views_db import create_views_engine
from projections import analytics_queries as q
from projections.analytics import AnalyticsView
from projections.dashboard_report import _revenue, marketplace_analytics
from projections.ledger import LedgerView
from projections.runner import ProjectionRunner
from tests.application.test_ledger_process import memory_store
from tests.builders import listing_spec

DAY0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
OWNERS = [UUID(int=n + 1) for n in range(3)]
ADMIN = UUID(int=99)
PROCESSOR_SIDE = (
    L.PROCESSOR_BALANCE,
    L.PROCESSOR_FEES,
    L.REFUNDS_PAYABLE,
    L.DISPUTED_FUNDS,
    L.DISPUTE_FEES,
    L.DISPUTE_LOSSES,
)
ACTIONS = st.lists(
    st.sampled_from(
        [
            *("refund", "refund_failed", "refund_pending", "cancel", "deposit", "payout"),
            *("reverse", "chargeback_won", "chargeback_lost", "dispute"),
        ]
    ),
    max_size=4,
)
BOOKINGS = st.lists(
    st.tuples(
        st.integers(0, 5),  # listing
        st.integers(100, 90_000),  # total
        st.integers(6_000, 9_500),  # owner share, basis points
        st.integers(0, 9),  # day the money first moves
        ACTIONS,
        st.integers(1, 10_000),  # a fraction (of 10,000) for partial amounts
        st.booleans(),  # paid at all
    ),
    min_size=1,
    max_size=8,
)


def at(day: int, hour: int = 0) -> datetime:
    return DAY0 + timedelta(days=day, hours=hour)


def history(bookings: list[Any]) -> list[Any]:
    listings = []
    for n in range(6):
        spec = listing_spec(category=("stay", "vehicle")[n % 2], title=f"Listing {n}")
        listings.append(Listing.create(OWNERS[n % 3], spec, at(0)))
    aggregates: list[Any] = list(listings)
    for n, (which, total, share, day, actions, part, paid) in enumerate(bookings):
        listing = listings[which]
        quote = {"currency": "EUR", "total": total, "owner_payout": total * share // 10_000}
        quote |= {"service_fee": total - quote["owner_payout"], "commission": 0, "tax": 0}
        booking = Booking(
            id=uuid4(),
            **{"listing_id": listing.id, "owner_id": listing.owner_id, "renter_id": ADMIN},
            **{"unit": "night", "start": "2026-04-01", "end": "2026-04-03"},
            **{"timezone": "Europe/Lisbon", "quantity": 1, "guests": 1, "message": ""},
            **{"quote": quote, "policy": {}, "deposit": None, "status": CONFIRMED},
            **{"start_at": at(30), "end_at": at(32), "expires_at": at(1)},
            **{"by": ADMIN, "role": "renter", "at": at(day)},
        )
        aggregates.append(booking)
        if not paid:
            continue
        aggregates.append(pay(n, booking, quote, day, actions, part))
        if "dispute" in actions:  # opened once, after the stay, on the day of the action
            when = at(day + actions.index("dispute") + 1, 1)
            aggregates.append(dispute(booking, when))
    return aggregates


def dispute(booking: Any, when: datetime) -> Any:
    return Dispute.open(
        **{"booking_id": booking.id, "renter_id": ADMIN, "owner_id": booking.owner_id},
        **{"booking_ends_at": when, "kind": "damage", "description": "A burn mark."},
        **{"claimed_amount": None, "evidence": [], "by": ADMIN, "at": when},
    )


def pay(n: int, booking: Any, quote: dict[str, Any], day: int, actions: list[str], part: int):  # type: ignore[no-untyped-def]
    eur = lambda amount: Money(amount, "EUR")  # noqa: E731
    total = quote["total"]
    deposit = eur(20_000)
    p = Payment.open(booking.id, booking.owner_id, ADMIN, quote, deposit, ADMIN, at(day))
    p.capture_charge(f"{n}:cap", "pi", eur(total), eur(total * 3 // 100), at(day))
    partial = max(1, total * part // 10_000)
    sent: list[str] = []
    for step, action in enumerate(actions, start=1):
        when = at(day + step, step)
        if action.startswith("refund") and p.refundable:
            amount = min(partial, p.refundable)
            refund_id = f"r{step}"
            p.request_refund(refund_id, eur(amount), "goodwill", ADMIN, "admin", when)
            if action == "refund":
                p.record_refund_succeeded(
                    f"{n}:rs{step}", "re", eur(amount), when, refund_id=refund_id
                )
            elif action == "refund_failed":
                p.record_refund_failed(f"{n}:rf{step}", "re", "declined", when, refund_id=refund_id)
        elif action == "cancel" and booking.status == CONFIRMED:
            booking.cancel(ADMIN, "admin", "test", {"amount": 0, "currency": "EUR"}, when)
        elif action == "deposit" and not p.deposit_hold["seen"]:
            p.authorize_deposit(f"{n}:da", "pi_d", deposit, when)
            p.record_deposit_captured(f"{n}:dc", "pi_d", eur(partial % 20_000 + 1), eur(0), when)
            p.record_deposit_released(f"{n}:dr", when)
        elif action == "payout":
            p.record_transfer_sent(f"{n}:ts{step}", f"tr{step}", eur(partial), when)
            sent.append(f"tr{step}")
        elif action == "reverse" and sent:
            p.record_transfer_reversed(f"{n}:tv{step}", sent[-1], f"trr{step}", eur(1), when)
        elif action.startswith("chargeback"):
            p.record_chargeback_funds_withdrawn(f"{n}:cw", "dp", eur(total), eur(1_500), when)
            outcome = action.removeprefix("chargeback_")
            p.close_chargeback(f"{n}:cc", "dp", outcome, eur(total), eur(1_500), when)
    return p


def balances(conn: Any, tables: Any) -> dict[str, int]:
    return {r.account: r.balance for r in conn.execute(select(tables["balances"]))}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bookings=BOOKINGS, split=st.integers(1, 20))
def test_dashboard_and_analytics_money_equals_the_ledger(bookings: list[Any], split: int) -> None:
    reconcile(bookings, split)


def test_every_kind_of_money_movement_reconciles() -> None:
    """One history with each action at least once, so the property's ground is covered."""
    everything = ["refund", "refund_failed", "refund_pending", "deposit", "payout", "reverse"]
    bookings = [
        (0, 50_000, 8_000, 0, everything, 2_500, True),
        (1, 30_000, 9_000, 3, ["cancel", "refund", "chargeback_lost", "dispute"], 10_000, True),
        (2, 20_000, 7_000, 5, ["dispute", "chargeback_won", "payout"], 5_000, True),
        (3, 10_000, 8_500, 6, [], 1, False),
    ]
    types = reconcile(bookings, 4, rebuild=True)
    assert {t.removeprefix("Payment.") for t in types} >= {
        "ChargeCaptured",
        "RefundRequested",
        "RefundSucceeded",
        "RefundFailed",
        "DepositCaptured",
        "TransferSent",
        "TransferReversed",
        "ChargebackFundsWithdrawn",
        "ChargebackFundsReinstated",
        "ChargebackLost",
    }


def snapshot(engine: Any, tables: Any) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            name: sorted(tuple(map(str, row)) for row in conn.execute(select(table)))
            for name, table in tables.items()
        }


def replay_and_rebuild(store: Any, engine: Any, runner: Any) -> None:
    """Every event applied again changes no row; a rebuild from zero gives the same rows."""
    before = snapshot(engine, runner.tables("analytics"))
    notes = store.recorder.select_notifications(1, 10**6)
    events = [(store.mapper.to_domain_event(n), n.id) for n in notes]
    with engine.begin() as conn:
        AnalyticsView().process_page(conn, runner.tables("analytics"), events)
    assert snapshot(engine, runner.tables("analytics")) == before
    runner.rebuild("analytics")
    assert snapshot(engine, runner.tables("analytics")) == before


def reconcile(bookings: list[Any], split: int, *, rebuild: bool = False) -> set[str]:
    """Checks the history and answers the kinds of entries it made."""
    store = memory_store()
    aggregates = history(bookings)
    for aggregate in aggregates:
        store.save(aggregate)
    LedgerProcess(store).catch_up()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_views_engine(f"sqlite:///{Path(tmp) / 'views.db'}")
        try:
            runner = ProjectionRunner(store, engine, [LedgerView(), AnalyticsView()], batch_size=7)
            runner.setup()
            runner.catch_up()
            check(engine, runner, split, sum(isinstance(a, Dispute) for a in aggregates))
            if rebuild:
                replay_and_rebuild(store, engine, runner)
            with engine.connect() as conn:
                money = runner.tables("analytics")["money"]
                return set(conn.execute(select(money.c.source_type)).scalars())
        finally:
            engine.dispose()


def check(engine: Any, runner: Any, split: int, disputes: int) -> None:
    frm, to = date(2026, 2, 1), date(2026, 5, 1)
    middle = DAY0.date() + timedelta(days=split)
    analytics = runner.tables("analytics")
    with engine.connect() as conn:
        ledger = balances(conn, runner.tables("ledger"))
        whole = marketplace_analytics(conn, {"analytics": analytics}, frm, to, "week")
        parts = [
            marketplace_analytics(conn, {"analytics": analytics}, a, b, "day")
            for a, b in ((frm, middle), (middle, to))
        ]
        owners = {o: _revenue(q.owner_money(conn, analytics, o, frm, to)) for o in OWNERS}

    def eur(figures: dict[str, Any], metric: str) -> int:
        return sum(m["amount"] for m in figures[metric] if m["currency"] == "EUR")

    def owner_sum(revenue: list[dict[str, Any]], field: str) -> int:
        return sum(r[field]["amount"] for r in revenue)

    totals = whole["totals"]
    fees = -(ledger.get(L.PLATFORM_FEES, 0) + ledger.get(L.PLATFORM_FEES_REFUNDED, 0))
    assert eur(totals, "fees") == fees
    assert eur(totals, "gmv") == eur(totals, "fees") + eur(totals, "owner_net")
    paid_out = sum(owner_sum(r, "paid_out") for r in owners.values())
    processor_side = sum(ledger.get(account, 0) for account in PROCESSOR_SIDE)
    assert eur(totals, "gmv") - paid_out == processor_side
    for owner, revenue in owners.items():
        owed = ledger.get(L.owner_payable(owner), 0) + ledger.get(L.owner_receivable(owner), 0)
        assert owner_sum(revenue, "net") - owner_sum(revenue, "paid_out") == -owed
    assert sum(owner_sum(r, "gross") for r in owners.values()) == eur(totals, "gmv")
    assert sum(owner_sum(r, "fees") for r in owners.values()) == fees
    for metric in ("gmv", "fees", "owner_net", "processor_fees"):
        assert sum(eur(b, metric) for b in whole["buckets"]) == eur(totals, metric)
        assert sum(eur(c, metric) for c in whole["by_category"]) == eur(totals, metric)
        assert sum(eur(p["totals"], metric) for p in parts) == eur(totals, metric)
    for count in ("bookings", "cancellations", "disputes", "new_listings"):
        assert sum(p["totals"][count] for p in parts) == totals[count]
        assert sum(c[count] for c in whole["by_category"]) == totals[count]
        assert sum(b[count] for b in whole["buckets"]) == totals[count]
    assert totals["disputes"] == disputes
