"""Order: one renter's basket of several listings, each with its own period.

An order references one `Booking` per item (every item booking carries `order_id`), so the
booking lifecycle (approve, expire, pay, cancel, payout, ledger) stays the one-item case and
is not forked. The order itself records what only the basket knows: its items, the order
quote (per-item lines, ONE service fee, the total) and who cancelled it. Its status is
derived from its items' statuses (`order_status`), never stored twice.

One service fee: the fee is computed once on the basket's fee base and allocated to the items
in proportion to their fee bases (largest remainder), and each item booking stores the quote
with its allocated share. The item totals sum to the order total to the minor unit, so
per-booking payments, payouts and ledger entries still derive from each booking's quote.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import booking as b
from domain.errors import ConflictError, NotFoundError, RuleViolation
from domain.money import round_half_up

MAX_ITEMS = 20
FULL_BP = 10_000

# The lifecycle order of live statuses: an order is as far as its least advanced live item.
_PROGRESS = (
    b.PENDING_OWNER_APPROVAL,
    b.PENDING_PAYMENT,
    b.CONFIRMED,
    b.IN_PROGRESS,
    b.AWAITING_RETURN_INSPECTION,
    b.DISPUTED,
    b.COMPLETED,
    b.SETTLED,
)
_ENDED = frozenset({b.CANCELLED, b.REFUNDED})


class OrderUnavailableError(ConflictError):
    """Some items' units are taken: the whole order is refused and nothing is held."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        names = ", ".join(f"#{i['index']} ({i['listing_id']})" for i in items)
        super().__init__("unavailable", f"these items are not available: {names}")
        self.items = items


class OrderItemError(RuleViolation):
    """An item breaks a booking rule (422), named by its index in the request."""

    def __init__(self, index: int, listing_id: UUID, code: str, detail: str) -> None:
        super().__init__(code, f"item #{index} ({listing_id}): {detail}")
        self.index, self.listing_id = index, listing_id


def order_status(statuses: Iterable[str]) -> str:
    """The order's status from its items': `cancelled` (or `refunded`) when every item ended,
    else the least advanced status among the live items (a partly cancelled order follows
    the items still running)."""
    items = list(statuses)
    if not items:
        return b.CANCELLED
    live = [s for s in items if s not in _ENDED]
    if not live:
        return b.REFUNDED if all(s == b.REFUNDED for s in items) else b.CANCELLED
    return min(live, key=lambda s: _PROGRESS.index(s) if s in _PROGRESS else len(_PROGRESS))


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """`total` split in proportion to `weights` (largest remainder; ties to the first), so
    the parts sum to `total` exactly."""
    whole = sum(weights)
    if whole <= 0:
        return [total if i == 0 else 0 for i in range(len(weights))]
    floors = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(floors)]:
        floors[i] += 1
    return floors


def fee_base(quote: dict[str, Any]) -> int:
    """What the renter service fee is computed on (subtotal + cleaning, as in pricing)."""
    return int(quote["subtotal"]) + int(quote["cleaning_fee"])


def share_service_fee(quotes: list[dict[str, Any]], service_fee_bp: int) -> list[dict[str, Any]]:
    """The item quotes with ONE service fee for the basket, allocated across the items."""
    if len({q["currency"] for q in quotes}) > 1:
        raise RuleViolation("mixed_currencies", "every item of an order has one currency")
    bases = [fee_base(q) for q in quotes]
    fee = round_half_up(sum(bases) * service_fee_bp, FULL_BP)
    shared = []
    for q, part in zip(quotes, allocate(fee, bases), strict=True):
        lines = [li for li in q["line_items"] if li["code"] != "service_fee"]
        if part:
            at = next((i for i, li in enumerate(lines) if li["code"] == "tax"), len(lines))
            lines.insert(at, {"code": "service_fee", "label": "Service fee", "amount": part})
        total = int(q["total"]) - int(q["service_fee"]) + part
        shared.append({**q, "service_fee": part, "total": total, "line_items": lines})
    return shared


def order_quote(quotes: list[dict[str, Any]]) -> dict[str, Any]:
    """The basket's quote: a line per item, the one service fee, taxes and the total."""
    currency = str(quotes[0]["currency"])
    items = [
        {
            "index": i,
            "subtotal": int(q["subtotal"]),
            "cleaning_fee": int(q["cleaning_fee"]),
            "tax": int(q["tax"]),
            "service_fee": int(q["service_fee"]),
            "total": int(q["total"]),
            "line_items": q["line_items"],
        }
        for i, q in enumerate(quotes)
    ]
    fee, tax = sum(int(q["service_fee"]) for q in quotes), sum(int(q["tax"]) for q in quotes)
    lines = [
        {"code": f"item:{i}", "label": f"Item {i + 1}", "amount": fee_base(q)}
        for i, q in enumerate(quotes)
    ]
    lines += [{"code": "service_fee", "label": "Service fee", "amount": fee}] if fee else []
    lines += [{"code": "tax", "label": "Taxes", "amount": tax}] if tax else []
    return {
        "currency": currency,
        "items": items,
        "service_fee": fee,
        "tax": tax,
        "total": sum(int(q["total"]) for q in quotes),
        "line_items": lines,
    }


class Order(Aggregate):
    @event("Placed")
    def __init__(
        self,
        id: UUID,  # chosen by the caller, so a retried placement keeps its id
        renter_id: UUID,
        items: list[dict[str, Any]],  # {booking_id, listing_id, owner_id, start, end, quantity}
        guests: int,
        quote: dict[str, Any],
        at: datetime,
    ) -> None:
        if not items:
            raise RuleViolation("empty_order", "an order has at least one item")
        self.renter_id = renter_id
        self.items = items
        self.guests = guests
        self.quote = quote
        self.placed_at = self.updated_at = at
        self.cancelled: dict[str, Any] | None = None

    @property
    def booking_ids(self) -> list[UUID]:
        return [UUID(str(item["booking_id"])) for item in self.items]

    @property
    def owner_ids(self) -> set[UUID]:
        return {UUID(str(item["owner_id"])) for item in self.items}

    def check_can_view(self, user_id: UUID, role: str) -> None:
        """The renter, any item's owner and admins see the order; others get 404."""
        if role != "admin" and user_id != self.renter_id and user_id not in self.owner_ids:
            raise NotFoundError("order_not_found", f"order {self.id} not found")

    def visible_items(self, user_id: UUID, role: str) -> list[dict[str, Any]]:
        """Owners see only their own items of another renter's basket."""
        if role == "admin" or user_id == self.renter_id:
            return list(self.items)
        return [i for i in self.items if UUID(str(i["owner_id"])) == user_id]

    def cancel(self, by: UUID, role: str, reason: str, at: datetime) -> None:
        self._cancelled(by, role, reason, at)

    @event("Cancelled")
    def _cancelled(self, by: UUID, role: str, reason: str, at: datetime) -> None:
        self.cancelled = {"by": str(by), "role": role, "reason": reason, "at": at.isoformat()}
        self.updated_at = at
