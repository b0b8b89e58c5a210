"""Whatever the processor reports, in whatever order and however often, the ledger derived
from payment events balances, sums to zero, never refunds more than was captured, and its
account balances equal a simple model kept here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain import ledger as L
from domain.errors import ConflictError, RuleViolation
from domain.money import round_half_up
from domain.payment import Payment, RefundExceedsCapturedError
from tests.properties.money_model import MoneyModel

AT = datetime(2026, 6, 1, tzinfo=UTC)
ADMIN = uuid4()
DISPUTE = "dp_1"


class MoneyMachine(MoneyModel, RuleBasedStateMachine):
    @initialize(
        total=st.integers(100, 50_000),
        owner_bp=st.integers(0, 10_000),
        deposit=st.one_of(st.none(), st.integers(1, 30_000)),
        dispute_fee=st.integers(0, 2_000),
    )
    def open(self, total: int, owner_bp: int, deposit: int | None, dispute_fee: int) -> None:
        self.total, self.owner_payout = total, total * owner_bp // 10_000
        quote = {
            "currency": "EUR",
            "total": total,
            "owner_payout": self.owner_payout,
            "service_fee": 0,
            "commission": 0,
            "tax": total - self.owner_payout,
        }
        self.payment = Payment.open(
            uuid4(), uuid4(), uuid4(), quote, self.eur(deposit) if deposit else None, ADMIN, AT
        )
        self.deposit, self.dispute_fee = deposit, dispute_fee
        self.entries: dict[Any, L.JournalEntry] = {}
        self.deliveries: list[Callable[[], bool]] = []
        self.n = 0
        # the model
        self.expect: dict[str, int] = {}
        self.owner_net = 0
        self.captured = self.owner_share = 0
        self.refunds: dict[str, dict[str, Any]] = {}  # ours and processor ones, by refund id
        self.parked: dict[str, int] = {}
        self.failed_unknown: set[str] = set()
        self.dep: dict[str, Any] = {
            "status": "none",
            "seen": False,
            "auth": 0,
            "captured": 0,
            "memo": 0,
        }
        self.transfers: dict[str, dict[str, int]] = {}
        self.parked_rev: dict[str, tuple[str, int]] = {}
        self.cb: dict[str, Any] = {"status": "open", "withdrawn": False, "reinstated": False}
        self.record()

    # -- charge -----------------------------------------------------------------------------

    @rule(partial=st.booleans(), part=st.integers(1, 100), fee_bp=st.integers(0, 500))
    def capture(self, partial: bool, part: int, fee_bp: int) -> None:
        amount = max(1, self.total * part // 100) if partial else self.total
        fee = amount * fee_bp // 10_000
        eid = self.event_id()
        done = self.deliver(
            lambda: self.payment.capture_charge(eid, "pi_1", self.eur(amount), self.eur(fee), AT)
        )
        assert done is (self.captured == 0)
        if not done:
            return
        owner = (
            self.owner_payout
            if amount == self.total
            else (round_half_up(amount * self.owner_payout, self.total))
        )
        self.captured, self.owner_share = amount, owner
        self.post(L.PROCESSOR_BALANCE, amount - fee)
        self.post(L.PROCESSOR_FEES, fee)
        self.post(L.PLATFORM_FEES, -(amount - owner))
        self.owner(owner)
        applied = []
        for processor_id, parked in list(self.parked.items()):
            if parked <= self.captured - self.active():
                del self.parked[processor_id]
                self.refund_requested(f"processor:{processor_id}", parked)
                applied.append(f"processor:{processor_id}")
        self.record()
        for refund_id in applied:
            self.book_request(refund_id)
            self.book_success(refund_id)

    # -- refunds ----------------------------------------------------------------------------

    @rule(amount=st.integers(1, 60_000))
    def request_refund(self, amount: int) -> None:
        refund_id = f"r{self.event_id()}"
        refundable = max(0, self.captured - self.active() - self.held())
        try:
            self.payment.request_refund(refund_id, self.eur(amount), "why", ADMIN, "admin", AT)
        except RefundExceedsCapturedError:
            assert self.captured and amount > refundable
            return
        except ConflictError as exc:
            assert exc.code == "not_captured" and not self.captured
            return
        assert self.captured and amount <= refundable
        self.deliveries.append(
            lambda: self.payment.request_refund(refund_id, self.eur(amount), "why", ADMIN, "a", AT)
        )
        self.refund_requested(refund_id, amount)
        self.record()
        self.book_request(refund_id)

    @rule(data=st.data(), success=st.booleans())
    def refund_outcome(self, data: st.DataObject, success: bool) -> None:
        ours = sorted(k for k in self.refunds if not k.startswith("processor:"))
        if not ours:
            return
        refund_id = data.draw(st.sampled_from(ours))
        r, eid = self.refunds[refund_id], self.event_id()
        if success:
            done = self.deliver(
                lambda: self.payment.record_refund_succeeded(
                    eid, f"re_{refund_id}", self.eur(r["amount"]), AT, refund_id=refund_id
                )
            )
            assert done is (r["status"] == "requested")
            if done:
                self.record()
                self.book_success(refund_id)
            return
        done = self.deliver(
            lambda: self.payment.record_refund_failed(
                eid, f"re_{refund_id}", "declined", AT, refund_id=refund_id
            )
        )
        assert done is (r["status"] != "failed")
        if done:
            self.record()
            self.book_failure(refund_id)

    @rule(k=st.integers(0, 4))
    def processor_refund(self, k: int) -> None:
        """A refund made at the processor; it may arrive before the capture."""
        processor_id, amount = f"rex{k}", max(1, self.total * (k + 1) // 12)
        eid = self.event_id()
        done = self.deliver(
            lambda: self.payment.record_refund_succeeded(eid, processor_id, self.eur(amount), AT)
        )
        known = f"processor:{processor_id}" in self.refunds
        expected = not (known or processor_id in self.parked or processor_id in self.failed_unknown)
        assert done is expected
        if not done:
            return
        if self.captured and amount <= self.captured - self.active():
            self.processor_refund_applies(processor_id, amount)
        else:
            self.parked[processor_id] = amount
            self.record()

    @rule(k=st.integers(0, 4))
    def processor_refund_fails(self, k: int) -> None:
        processor_id, eid = f"rex{k}", self.event_id()
        done = self.deliver(
            lambda: self.payment.record_refund_failed(eid, processor_id, "failed", AT)
        )
        refund = self.refunds.get(f"processor:{processor_id}")
        if refund is not None:
            assert done is (refund["status"] != "failed")
            if done:
                self.record()
                self.book_failure(f"processor:{processor_id}")
            return
        assert done is (processor_id not in self.failed_unknown)
        self.failed_unknown.add(processor_id)
        self.parked.pop(processor_id, None)
        self.record()

    # -- deposit ----------------------------------------------------------------------------

    @rule()
    def authorize_deposit(self) -> None:
        amount, eid = self.deposit or 5_000, self.event_id()
        done = self.deliver(
            lambda: self.payment.authorize_deposit(eid, "pi_d", self.eur(amount), AT)
        )
        assert done is (not self.dep["seen"])
        if done:
            self.hold_known(amount)
            self.record()

    @rule(amount=st.integers(1, 20_000), fee_bp=st.integers(0, 300))
    def capture_deposit(self, amount: int, fee_bp: int) -> None:
        fee, eid = amount * fee_bp // 10_000, self.event_id()
        held = (self.deposit or amount) if not self.dep["seen"] else self.dep["auth"]
        command = lambda: self.payment.record_deposit_captured(  # noqa: E731
            eid, "pi_d", self.eur(amount), self.eur(fee), AT
        )
        if self.dep["captured"] + amount > held:
            with pytest.raises(RuleViolation):
                command()
            assert self.payment.collect_events() == []
            return
        assert self.deliver(command)
        if not self.dep["seen"]:
            self.hold_known(held)
        self.dep["captured"] += amount
        self.memo(-min(amount, self.dep["memo"]))
        self.post(L.PROCESSOR_BALANCE, amount - fee)
        self.post(L.PROCESSOR_FEES, fee)
        self.owner(amount)
        self.record()

    @rule(expired=st.booleans())
    def release_deposit(self, expired: bool) -> None:
        eid = self.event_id()
        done = self.deliver(lambda: self.payment.record_deposit_released(eid, AT, expired=expired))
        assert done is (self.dep["status"] in ("none", "held"))
        if done:
            self.memo(-(self.dep["auth"] - self.dep["captured"]))
            self.dep["status"] = "released"
            self.record()

    # -- transfers --------------------------------------------------------------------------

    @rule(k=st.integers(0, 2), amount=st.integers(1, 30_000))
    def transfer(self, k: int, amount: int) -> None:
        transfer_id, eid = f"tr_{k}", self.event_id()
        done = self.deliver(
            lambda: self.payment.record_transfer_sent(eid, transfer_id, self.eur(amount), AT)
        )
        assert done is (transfer_id not in self.transfers)
        if not done:
            return
        self.transfers[transfer_id] = {"amount": amount, "reversed": 0}
        self.post(L.PROCESSOR_BALANCE, -amount)
        self.owner(-amount)
        for reversal_id, (parked_for, parked) in list(self.parked_rev.items()):
            if parked_for == transfer_id and self.reversible(transfer_id) >= parked:
                del self.parked_rev[reversal_id]
                self.reverse(transfer_id, parked)
        self.record()

    @rule(k=st.integers(0, 2), amount=st.integers(1, 30_000))
    def reverse_transfer(self, k: int, amount: int) -> None:
        transfer_id, eid = f"tr_{k}", self.event_id()
        reversal_id = f"trr_{eid}"
        assert self.deliver(
            lambda: self.payment.record_transfer_reversed(
                eid, transfer_id, reversal_id, self.eur(amount), AT
            )
        )
        if self.reversible(transfer_id) >= amount:
            self.reverse(transfer_id, amount)
        else:
            self.parked_rev[reversal_id] = (transfer_id, amount)
        self.record()

    # -- chargeback -------------------------------------------------------------------------

    @rule(step=st.sampled_from(["withdrawn", "reinstated", "won", "lost"]))
    def chargeback(self, step: str) -> None:
        eid, cb = self.event_id(), self.cb
        amount, fee = self.eur(self.total), self.eur(self.dispute_fee)
        p = self.payment
        commands: dict[str, Callable[[], bool]] = {
            "withdrawn": lambda: p.record_chargeback_funds_withdrawn(eid, DISPUTE, amount, fee, AT),
            "reinstated": lambda: p.record_chargeback_funds_reinstated(
                eid, DISPUTE, amount, fee, AT
            ),
            "won": lambda: p.close_chargeback(eid, DISPUTE, "won", amount, fee, AT),
            "lost": lambda: p.close_chargeback(eid, DISPUTE, "lost", amount, fee, AT),
        }
        done = self.deliver(commands[step])
        if step == "withdrawn":
            assert done is (not cb["withdrawn"])
            if done:
                self.withdraw()
                if cb["status"] == "won":
                    self.reinstate()
        elif step == "reinstated":
            assert done is (not cb["reinstated"] and cb["status"] != "lost")
            if done:
                if not cb["withdrawn"]:
                    self.withdraw()
                self.reinstate()
        else:
            assert done is (cb["status"] == "open")
            if done and step == "won" and cb["withdrawn"] and not cb["reinstated"]:
                self.reinstate()
            if done and step == "lost":
                if not cb["withdrawn"]:
                    self.withdraw()
                lost = 0 if cb["reinstated"] else self.total
                self.post(L.DISPUTE_LOSSES, lost)
                self.post(L.DISPUTED_FUNDS, -lost)
            if done:
                cb["status"] = step
        self.record()

    # -- a dispute resolved: a refund to the renter and a deposit capture for the owner -----

    @rule(refund=st.integers(0, 20_000), deposit=st.integers(0, 20_000))
    def resolve_dispute(self, refund: int, deposit: int) -> None:
        refund = min(refund, self.payment.refundable)
        if refund and self.captured:
            self.request_refund(refund)
        deposit = min(deposit, self.payment.deposit_capturable)
        if deposit:
            self.capture_deposit(deposit, 0)

    # -- duplicates -------------------------------------------------------------------------

    @rule(data=st.data())
    def redeliver(self, data: st.DataObject) -> None:
        if not self.deliveries:
            return
        command = data.draw(st.sampled_from(self.deliveries))
        assert command() is False
        assert self.payment.collect_events() == []

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def every_entry_balances_and_all_accounts_sum_to_zero(self) -> None:
        for entry in self.entries.values():
            L.check_balanced(entry.postings)
        assert sum(L.balances(self.entries.values()).values()) == 0

    @invariant()
    def no_refund_exceeds_what_was_captured(self) -> None:
        succeeded = sum(r["amount"] for r in self.refunds.values() if r["status"] == "succeeded")
        assert succeeded <= self.captured
        assert self.payment.refunded <= self.payment.charge["captured"]
        assert self.active("owner") <= self.owner_share

    @invariant()
    def balances_equal_the_model(self) -> None:
        recorded = {a: v for (a, _), v in L.balances(self.entries.values()).items() if v}
        assert recorded == {a: v for a, v in self.expect.items() if v}
        assert self.payment.owner_balance == self.owner_net


MoneyMachine.TestCase.settings = settings(
    max_examples=300,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_money_flows = MoneyMachine.TestCase
