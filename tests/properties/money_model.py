"""The simple ledger model `test_money_stateful.py` checks the payment's entries against."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain import ledger as L
from domain.money import Money


class MoneyModel:
    """The model side of `MoneyMachine`: what each account should hold, kept by hand from the
    same facts the payment is told. Its state is set up by the machine's `open`."""

    # -- plumbing ---------------------------------------------------------------------------

    @staticmethod
    def eur(amount: int) -> Money:
        return Money(amount, "EUR")

    def event_id(self) -> str:
        self.n += 1
        return f"evt_{self.n}"

    def record(self) -> list[Any]:
        events = list(self.payment.collect_events())
        for event in events:
            entry = L.entry_for(event)
            if entry is not None:
                assert entry.id not in self.entries
                self.entries[entry.id] = entry
            if type(event).__name__ == "RefundRequested":
                self.refunds[event.refund_id].update(
                    owner=event.owner_portion, platform=event.platform_portion
                )
        return events

    def deliver(self, command: Callable[[], bool]) -> bool:
        result = command()
        self.deliveries.append(command)
        return result

    def post(self, account: str, signed: int) -> None:
        self.expect[account] = self.expect.get(account, 0) + signed

    def owner(self, delta: int) -> None:
        before, after = self.owner_net, self.owner_net + delta
        self.post(L.owner_payable(self.payment.owner_id), -(max(after, 0) - max(before, 0)))
        self.post(L.owner_receivable(self.payment.owner_id), max(-after, 0) - max(-before, 0))
        self.owner_net = after

    def active(self, key: str = "amount") -> int:
        return sum(r[key] for r in self.refunds.values() if r["status"] != "failed")

    def held(self) -> int:
        withdrawn = self.cb["withdrawn"] and not self.cb["reinstated"]
        return self.total if withdrawn else 0

    # -- model of refunds -------------------------------------------------------------------

    def refund_requested(self, refund_id: str, amount: int) -> None:
        self.refunds[refund_id] = {"amount": amount, "status": "requested"}

    def book_request(self, refund_id: str) -> None:
        r = self.refunds[refund_id]
        assert 0 <= r["owner"] <= r["amount"] and r["platform"] == r["amount"] - r["owner"]
        self.owner(-r["owner"])
        self.post(L.PLATFORM_FEES_REFUNDED, r["platform"])
        self.post(L.REFUNDS_PAYABLE, -r["amount"])

    def book_success(self, refund_id: str) -> None:
        r = self.refunds[refund_id]
        r["status"] = "succeeded"
        self.post(L.REFUNDS_PAYABLE, r["amount"])
        self.post(L.PROCESSOR_BALANCE, -r["amount"])

    def book_failure(self, refund_id: str) -> None:
        r = self.refunds[refund_id]
        back = L.REFUNDS_PAYABLE if r["status"] == "requested" else L.PROCESSOR_BALANCE
        self.post(back, r["amount"])
        self.post(L.PLATFORM_FEES_REFUNDED, -r["platform"])
        self.owner(r["owner"])
        r["status"] = "failed"

    def processor_refund_applies(self, processor_id: str, amount: int) -> None:
        refund_id = f"processor:{processor_id}"
        self.refund_requested(refund_id, amount)
        self.record()
        self.book_request(refund_id)
        self.book_success(refund_id)

    def memo(self, amount: int) -> None:
        self.post(L.deposit_authorized(self.payment.booking_id), amount)
        self.post(L.DEPOSIT_AUTHORIZATIONS, -amount)
        self.dep["memo"] += amount

    def hold_known(self, amount: int) -> None:
        self.dep.update(seen=True, auth=amount)
        self.memo(amount)
        if self.dep["status"] == "none":
            self.dep["status"] = "held"
        else:  # released before the hold was known
            self.memo(-(amount - self.dep["captured"]))

    def reversible(self, transfer_id: str) -> int:
        t = self.transfers.get(transfer_id)
        return t["amount"] - t["reversed"] if t else 0

    def reverse(self, transfer_id: str, amount: int) -> None:
        self.transfers[transfer_id]["reversed"] += amount
        self.post(L.PROCESSOR_BALANCE, amount)
        self.owner(amount)

    def withdraw(self) -> None:
        self.cb["withdrawn"] = True
        self.post(L.DISPUTED_FUNDS, self.total)
        self.post(L.DISPUTE_FEES, self.dispute_fee)
        self.post(L.PROCESSOR_BALANCE, -(self.total + self.dispute_fee))

    def reinstate(self) -> None:
        self.cb["reinstated"] = True
        self.post(L.PROCESSOR_BALANCE, self.total)
        self.post(L.DISPUTED_FUNDS, -self.total)
