"""The double-entry ledger: a pure function of payment events.

`postings_for(event)` reads nothing but the event. Accounts (ARCHITECTURE.md):
P = assets:processor_balance, OP = liabilities:owner_payable:{owner},
OR = assets:owner_receivable:{owner}, RP = liabilities:refunds_payable,
memo:deposit_authorized:{booking} / memo:deposit_authorizations (a pair that balances itself).

Owner changes: every event that moves the booking's owner balance carries the change split into
`owner_payable` and `owner_receivable` (see domain/payment.py); a rising payable is Cr OP, a
falling one Dr OP; a rising receivable is Dr OR, a falling one Cr OR.

Posting rules (Dr = debit, Cr = credit; "owner" = the owner change above):
- ChargeCaptured (A, fee F, owner share O, platform share S):
    Dr P A-F, Dr expenses:processor_fees F, Cr owner O, Cr revenue:platform_fees S
- PromotionFunded (D, a platform-funded coupon's discount, recorded with the capture):
    Dr expenses:promotions D, Cr revenue:platform_fees D (the platform earns its fees as
    without the coupon and pays the coupon as an expense; an owner-funded coupon just
    lowers the owner share O)
- RefundRequested (R = owner part O + platform part S):
    Dr owner O, Dr revenue:platform_fees_refunded S, Cr RP R
- RefundSucceeded (R): Dr RP R, Cr P R
- RefundFailed (R, O, S; stage requested | succeeded):
    Dr RP R (requested) or Dr P R (succeeded, the money came back),
    Cr revenue:platform_fees_refunded S, Cr owner O
- DepositAuthorized (D): Dr memo:deposit_authorized:{booking} D, Cr memo:deposit_authorizations D
- DepositCaptured (C, fee F, memo part M):
    Dr P C-F, Dr expenses:processor_fees F, Cr owner C,
    Dr memo:deposit_authorizations M, Cr memo:deposit_authorized:{booking} M
- DepositReleased / DepositExpired (the rest X):
    Dr memo:deposit_authorizations X, Cr memo:deposit_authorized:{booking} X
- TransferSent (T): Dr owner T, Cr P T
- TransferReversed (X): Dr P X, Cr owner X
- ChargebackFundsWithdrawn (D, fee F):
    Dr assets:disputed_funds D, Dr expenses:dispute_fees F, Cr P D+F
- ChargebackFundsReinstated (D): Dr P D, Cr assets:disputed_funds D
- ChargebackLost (L): Dr expenses:dispute_losses L, Cr assets:disputed_funds L
- anything else (Created, requests, processor ids, ChargeAuthorized/Failed, parked facts,
  ChargebackOpened/Won, TransferScheduled): no entry.

The platform bears processor fees, dispute fees and chargeback losses; the owner keeps the
owner share unless a refund takes part of it back. `assets:bank` (a processor payout to the
platform's bank: Dr bank, Cr P) and `liabilities:deposits_held:{booking}` (a deposit charged
rather than held) are in the chart for flows no Payment event makes yet.
A posting of zero is left out; a negative amount posts on the other side.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, DomainEventProtocol, event

from domain.errors import RuleViolation
from domain.money import Money
from domain.payment import Payment

LEDGER_NS = uuid5(NAMESPACE_URL, "https://rentbook.dev/ledger")

PROCESSOR_BALANCE = "assets:processor_balance"
BANK = "assets:bank"
DISPUTED_FUNDS = "assets:disputed_funds"
REFUNDS_PAYABLE = "liabilities:refunds_payable"
PLATFORM_FEES = "revenue:platform_fees"
PLATFORM_FEES_REFUNDED = "revenue:platform_fees_refunded"
PROCESSOR_FEES = "expenses:processor_fees"
DISPUTE_FEES = "expenses:dispute_fees"
DISPUTE_LOSSES = "expenses:dispute_losses"
PROMOTIONS = "expenses:promotions"  # coupons the platform funds
DEPOSIT_AUTHORIZATIONS = "memo:deposit_authorizations"

Side = Literal["debit", "credit"]


def owner_receivable(owner_id: UUID) -> str:
    return f"assets:owner_receivable:{owner_id}"


def owner_payable(owner_id: UUID) -> str:
    return f"liabilities:owner_payable:{owner_id}"


def deposits_held(booking_id: UUID) -> str:
    return f"liabilities:deposits_held:{booking_id}"


def deposit_authorized(booking_id: UUID) -> str:
    return f"memo:deposit_authorized:{booking_id}"


class UnbalancedEntryError(RuleViolation):
    def __init__(self, detail: str) -> None:
        super().__init__("unbalanced_entry", detail)


@dataclass(frozen=True)
class Posting:
    account: str
    side: Side
    money: Money

    def signed(self) -> int:
        """Debits positive, credits negative: the sum over a balanced entry is zero."""
        return self.money.amount if self.side == "debit" else -self.money.amount

    def as_dict(self) -> dict[str, Any]:
        return {"account": self.account, "side": self.side, **self.money.as_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Posting:
        side: Side = "debit" if data["side"] == "debit" else "credit"
        return cls(str(data["account"]), side, Money.from_dict(data))

    def canonical(self) -> str:
        return f"{self.account}|{self.side}|{self.money.amount}|{self.money.currency}"


class _Postings:
    """Collects postings in one currency; zero is dropped, a negative flips sides. Lines are
    kept as (account, side, amount): `postings_for` makes them `Posting`s, verification
    formats them as canonical text (no object per line, no call per line)."""

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.lines: list[tuple[str, Side, int]] = []

    def add(self, account: str, side: Side, amount: int) -> _Postings:
        if amount < 0:
            side, amount = ("credit" if side == "debit" else "debit"), -amount
        if amount:
            self.lines.append((account, side, amount))
        return self

    def owner(self, e: Any) -> _Postings:
        self.add(owner_payable(e.owner_id), "credit", e.owner_payable)
        return self.add(owner_receivable(e.owner_id), "debit", e.owner_receivable)

    def memo_release(self, booking_id: UUID, amount: int) -> _Postings:
        self.add(DEPOSIT_AUTHORIZATIONS, "debit", amount)
        return self.add(deposit_authorized(booking_id), "credit", amount)


class _Lines(_Postings):
    """`_Postings` kept straight as canonical text (`Posting.canonical()`), for verification:
    no tuple per line and no second pass to format them (a fifth of the rules' cost)."""

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.lines: list[str] = []  # type: ignore[assignment]
        self._tail = f"|{currency}"

    def add(self, account: str, side: Side, amount: int) -> _Postings:
        if amount < 0:
            side, amount = ("credit" if side == "debit" else "debit"), -amount
        if amount:
            self.lines.append(f"{account}|{side}|{amount}{self._tail}")
        return self


def _charge_captured(e: Any, p: _Postings) -> None:
    p.add(PROCESSOR_BALANCE, "debit", e.amount - e.fee).add(PROCESSOR_FEES, "debit", e.fee)
    p.owner(e).add(PLATFORM_FEES, "credit", e.platform_share)


def _promotion_funded(e: Any, p: _Postings) -> None:
    p.add(PROMOTIONS, "debit", e.amount).add(PLATFORM_FEES, "credit", e.amount)


def _refund_requested(e: Any, p: _Postings) -> None:
    p.owner(e).add(PLATFORM_FEES_REFUNDED, "debit", e.platform_portion)
    p.add(REFUNDS_PAYABLE, "credit", e.amount)


def _refund_succeeded(e: Any, p: _Postings) -> None:
    p.add(REFUNDS_PAYABLE, "debit", e.amount).add(PROCESSOR_BALANCE, "credit", e.amount)


def _refund_failed(e: Any, p: _Postings) -> None:
    back_from = REFUNDS_PAYABLE if e.stage == "requested" else PROCESSOR_BALANCE
    p.add(back_from, "debit", e.amount).add(PLATFORM_FEES_REFUNDED, "credit", e.platform_portion)
    p.owner(e)


def _deposit_authorized(e: Any, p: _Postings) -> None:
    p.add(deposit_authorized(e.booking_id), "debit", e.amount)
    p.add(DEPOSIT_AUTHORIZATIONS, "credit", e.amount)


def _deposit_captured(e: Any, p: _Postings) -> None:
    p.add(PROCESSOR_BALANCE, "debit", e.amount - e.fee).add(PROCESSOR_FEES, "debit", e.fee)
    p.owner(e).memo_release(e.booking_id, e.memo_amount)


def _deposit_released(e: Any, p: _Postings) -> None:
    p.memo_release(e.booking_id, e.amount)


def _transfer_sent(e: Any, p: _Postings) -> None:
    p.owner(e).add(PROCESSOR_BALANCE, "credit", e.amount)


def _transfer_reversed(e: Any, p: _Postings) -> None:
    p.add(PROCESSOR_BALANCE, "debit", e.amount).owner(e)


def _funds_withdrawn(e: Any, p: _Postings) -> None:
    p.add(DISPUTED_FUNDS, "debit", e.amount).add(DISPUTE_FEES, "debit", e.fee)
    p.add(PROCESSOR_BALANCE, "credit", e.amount + e.fee)


def _funds_reinstated(e: Any, p: _Postings) -> None:
    p.add(PROCESSOR_BALANCE, "debit", e.amount).add(DISPUTED_FUNDS, "credit", e.amount)


def _chargeback_lost(e: Any, p: _Postings) -> None:
    p.add(DISPUTE_LOSSES, "debit", e.amount).add(DISPUTED_FUNDS, "credit", e.amount)


RULES: dict[type[Any], Callable[[Any, _Postings], None]] = {
    Payment.ChargeCaptured: _charge_captured,  # type: ignore[attr-defined]
    Payment.PromotionFunded: _promotion_funded,  # type: ignore[attr-defined]
    Payment.RefundRequested: _refund_requested,  # type: ignore[attr-defined]
    Payment.RefundSucceeded: _refund_succeeded,  # type: ignore[attr-defined]
    Payment.RefundFailed: _refund_failed,  # type: ignore[attr-defined]
    Payment.DepositAuthorized: _deposit_authorized,  # type: ignore[attr-defined]
    Payment.DepositCaptured: _deposit_captured,  # type: ignore[attr-defined]
    Payment.DepositReleased: _deposit_released,  # type: ignore[attr-defined]
    Payment.DepositExpired: _deposit_released,  # type: ignore[attr-defined]
    Payment.TransferSent: _transfer_sent,  # type: ignore[attr-defined]
    Payment.TransferReversed: _transfer_reversed,  # type: ignore[attr-defined]
    Payment.ChargebackFundsWithdrawn: _funds_withdrawn,  # type: ignore[attr-defined]
    Payment.ChargebackFundsReinstated: _funds_reinstated,  # type: ignore[attr-defined]
    Payment.ChargebackLost: _chargeback_lost,  # type: ignore[attr-defined]
}


def postings_for(event: DomainEventProtocol[UUID]) -> list[Posting]:
    rule = RULES.get(type(event))
    if rule is None:
        return []
    collected = _Postings(getattr(event, "currency"))  # noqa: B009 - any Payment event
    rule(event, collected)
    currency = collected.currency
    return [Posting(a, side, Money(amount, currency)) for a, side, amount in collected.lines]


def canonical_postings(event_type: type[Any], event: Any) -> list[str]:
    """`[p.canonical() for p in postings_for(e)]` for an event of `event_type`, straight as
    text: verification compares and hashes only that. `event` needs only the attributes its
    rule reads, ids as anything that formats as `str(UUID)`."""
    rule = RULES.get(event_type)
    if rule is None:
        return []
    collected = _Lines(event.currency)
    rule(event, collected)
    return collected.lines


def check_balanced(postings: Iterable[Posting]) -> None:
    totals: dict[str, int] = {}
    for posting in postings:
        if posting.money.amount <= 0:
            raise UnbalancedEntryError(f"{posting.account}: a posting's amount is positive")
        currency = posting.money.currency
        totals[currency] = totals.get(currency, 0) + posting.signed()
    off = {currency: total for currency, total in totals.items() if total}
    if not totals or off:
        raise UnbalancedEntryError(f"debits and credits differ: {off or 'no postings'}")


def entry_id_for(source_originator_id: UUID, source_version: int) -> UUID:
    return uuid5(LEDGER_NS, f"{source_originator_id}:{source_version}")


_LEDGER_NS_BYTES = LEDGER_NS.bytes
# The variant's hex digit from the hash's: its top two bits become 10.
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def entry_id_text(source_originator_id: str, source_version: int) -> str:
    """`str(entry_id_for(...))` from the source id's text, without two UUID objects: uuid5
    is sha1 of namespace + name, with the version nibble set to 5 and the variant to 10."""
    name = f"{source_originator_id}:{source_version}".encode()
    h = hashlib.sha1(_LEDGER_NS_BYTES + name, usedforsecurity=False).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


class JournalEntry(Aggregate):
    """One balanced ledger transaction, derived from one payment event (its id says which)."""

    @staticmethod
    def create_id(source_originator_id: UUID, source_version: int, **_: Any) -> UUID:
        return entry_id_for(source_originator_id, source_version)

    @event("Recorded")
    def __init__(
        self,
        source_originator_id: UUID,
        source_version: int,
        source_type: str,
        booking_id: UUID,
        currency: str,
        postings: list[dict[str, Any]],
        at: datetime,
    ) -> None:
        check_balanced(Posting.from_dict(p) for p in postings)
        self.source_originator_id = source_originator_id
        self.source_version = source_version
        self.source_type = source_type
        self.booking_id = booking_id
        self.currency = currency
        self.lines = postings
        self.at = at

    @property
    def postings(self) -> list[Posting]:
        return [Posting.from_dict(p) for p in self.lines]


@dataclass(frozen=True)
class DerivedEntry:
    """An entry computed in memory (verification, regeneration): no aggregate machinery."""

    id: UUID
    postings: list[Posting]


def derive(event: DomainEventProtocol[UUID]) -> DerivedEntry | None:
    postings = postings_for(event)
    if not postings:
        return None
    return DerivedEntry(entry_id_for(event.originator_id, event.originator_version), postings)


def entry_for(event: DomainEventProtocol[UUID]) -> JournalEntry | None:
    """The entry a payment event makes, or None when no money moves."""
    postings = postings_for(event)
    if not postings:
        return None
    return JournalEntry(
        source_originator_id=event.originator_id,
        source_version=event.originator_version,
        source_type=type(event).__qualname__,
        booking_id=getattr(event, "booking_id"),  # noqa: B009
        currency=postings[0].money.currency,
        postings=[p.as_dict() for p in postings],
        at=getattr(event, "at"),  # noqa: B009
    )


class _Entry(Protocol):
    @property
    def id(self) -> UUID: ...

    @property
    def postings(self) -> list[Posting]: ...


def ledger_hash(entries: Iterable[_Entry]) -> str:
    """sha256 over every entry's postings, as sorted canonical lines: the same ledger gives
    the same hash however (and in whatever order) its entries were recorded."""
    lines = sorted(f"{e.id}|{p.canonical()}" for e in entries for p in e.postings)
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def balances(entries: Iterable[_Entry]) -> dict[tuple[str, str], int]:
    """(account, currency) -> debits minus credits."""
    totals: dict[tuple[str, str], int] = {}
    for entry in entries:
        for p in entry.postings:
            key = (p.account, p.money.currency)
            totals[key] = totals.get(key, 0) + p.signed()
    return totals
