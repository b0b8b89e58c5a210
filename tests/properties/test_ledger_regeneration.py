"""The ledger regenerated from payment events (postings_for) equals the ledger recorded
incrementally, duplicates and replays included, after 10,000 random flows."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.ledger import JournalEntry, balances, derive, entry_for, ledger_hash
from domain.money import Money
from domain.payment import Payment

AT = datetime(2026, 6, 1, tzinfo=UTC)
ADMIN = uuid4()
OWNERS = [uuid4() for _ in range(50)]


def flow(rng: random.Random, n: int) -> list[Any]:
    """One booking's payment events, the processor's facts in a shuffled order."""
    currency = rng.choice(["EUR", "EUR", "USD"])
    total = rng.randint(100, 100_000)
    owner_payout = total * rng.randint(6_000, 9_500) // 10_000
    deposit = rng.choice([None, rng.randint(1_000, 50_000)])
    quote = {
        "currency": currency,
        "total": total,
        "owner_payout": owner_payout,
        "service_fee": 0,
        "commission": 0,
        "tax": total - owner_payout,
    }
    if rng.random() < 0.3:  # a coupon: the platform's is booked as expenses:promotions
        funder = rng.choice(["platform", "owner"])
        quote |= {"coupon_discount": rng.randint(1, 5_000), "coupon_funded_by": funder}
    money = lambda amount: Money(amount, currency)  # noqa: E731
    p = Payment.open(
        uuid4(), rng.choice(OWNERS), uuid4(), quote, money(deposit) if deposit else None, ADMIN, AT
    )
    fee = total * 3 // 100
    facts: list[Any] = [
        lambda: p.capture_charge(f"{n}:cap", "pi", money(total), money(fee), AT),
    ]
    if rng.random() < 0.3:
        part = rng.randint(1, total // 2 or 1)
        facts.append(lambda: p.record_refund_succeeded(f"{n}:rex", "re_x", money(part), AT))
    if deposit and rng.random() < 0.5:
        facts.append(lambda: p.authorize_deposit(f"{n}:da", "pi_d", money(deposit), AT))
        take = rng.randint(1, deposit)
        facts.append(
            lambda: p.record_deposit_captured(f"{n}:dc", "pi_d", money(take), money(0), AT)
        )
        facts.append(lambda: p.record_deposit_released(f"{n}:dr", AT))
    if rng.random() < 0.5:
        payout = rng.randint(1, owner_payout or 1)
        facts.append(lambda: p.record_transfer_sent(f"{n}:ts", "tr", money(payout), AT))
        if rng.random() < 0.3:
            back = rng.randint(1, payout)
            facts.append(
                lambda: p.record_transfer_reversed(f"{n}:tv", "tr", "trr", money(back), AT)
            )
    if rng.random() < 0.1:
        dfee = rng.randint(0, 1_500)
        outcome = rng.choice(["won", "lost"])
        facts.append(
            lambda: p.record_chargeback_funds_withdrawn(
                f"{n}:cw", "dp", money(total), money(dfee), AT
            )
        )
        facts.append(
            lambda: p.close_chargeback(f"{n}:cc", "dp", outcome, money(total), money(dfee), AT)
        )
    rng.shuffle(facts)
    for fact in facts:
        for _ in range(rng.randint(1, 2)):  # duplicate deliveries
            fact()
    if p.charge["status"] == "captured" and rng.random() < 0.4 and p.refundable:
        amount = rng.randint(1, p.refundable)
        p.request_refund("cancel", money(amount), "cancelled", ADMIN, "admin", AT)
        outcome = rng.choice(["succeeded", "failed", "pending"])
        if outcome == "succeeded":
            p.record_refund_succeeded(f"{n}:rs", "re_1", money(amount), AT, refund_id="cancel")
        elif outcome == "failed":
            p.record_refund_failed(f"{n}:rf", "re_1", "declined", AT, refund_id="cancel")
    return list(p.collect_events())


class RecordedLedger:
    """The ledger process: one entry per source event, a second delivery is a no-op."""

    def __init__(self) -> None:
        self.entries: dict[UUID, JournalEntry] = {}

    def follow(self, event: Any) -> None:
        entry = entry_for(event)
        if entry is None:
            return
        known = self.entries.get(entry.id)
        if known is not None:
            assert known.postings == entry.postings  # a replay derives the very same entry
            return
        self.entries[entry.id] = entry


@pytest.mark.parametrize("seed", [3])
def test_regenerated_ledger_equals_the_recorded_one_after_10k_flows(seed: int) -> None:
    rng = random.Random(seed)
    streams: list[list[Any]] = []
    recorded = RecordedLedger()
    for n in range(10_000):
        events = flow(rng, n)
        streams.append(events)
        for event in events:
            for _ in range(rng.choice([1, 1, 1, 2])):  # the ledger process sees duplicates
                recorded.follow(event)
        if rng.random() < 0.01:  # a replay of an earlier stream from the start
            for event in rng.choice(streams):
                recorded.follow(event)

    regenerated = [e for stream in streams for e in map(derive, stream) if e is not None]
    assert len(regenerated) == len(recorded.entries)
    assert ledger_hash(regenerated) == ledger_hash(recorded.entries.values())
    for (_, currency), _balance in balances(regenerated).items():
        assert currency in ("EUR", "USD")
    totals: dict[str, int] = {}
    for (_, currency), balance in balances(recorded.entries.values()).items():
        totals[currency] = totals.get(currency, 0) + balance
    assert set(totals.values()) == {0}
