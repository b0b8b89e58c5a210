"""A Payment's refunds: the ones we request and the ones the processor reports.

Refunds we request are limited to what was captured, minus refunds not failed, minus funds a
chargeback holds (`refundable`). A refund the processor reports that we did not request, or
that arrives before the capture, is parked (`RefundParked`, no money) and applied when the
capture makes room for it, as a `RefundRequested` + `RefundSucceeded` pair; a refund failure
reported before its success wins (Stripe's final word), a failure after a success gives the
money back.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event

from domain.errors import ConflictError, NotFoundError, RuleViolation
from domain.money import Money, round_half_up
from domain.payment_state import FAILED, REQUESTED, SUCCEEDED, PaymentState


class RefundExceedsCapturedError(ConflictError):
    def __init__(self, amount: int, refundable: int) -> None:
        super().__init__(
            "refund_exceeds_captured", f"refund of {amount} exceeds the refundable {refundable}"
        )


class PaymentRefunds(PaymentState):
    def request_refund(
        self,
        refund_id: str,
        amount: Money,
        reason: str,
        by: UUID,
        role: str,
        at: datetime,
        owner_portion: Money | None = None,
    ) -> bool:
        """Records the decision to refund before the processor is asked; `owner_portion` is
        the part taken back from the owner (pro rata to the capture when not given)."""
        minor = self._minor(amount, "refund")
        if refund_id in self.refunds:
            if self.refunds[refund_id]["amount"] != minor:
                raise ConflictError("refund_id_reused", f"refund {refund_id} has another amount")
            return False
        if self.charge["status"] != "captured":
            raise ConflictError("not_captured", "nothing was captured to refund")
        if not reason.strip():
            raise RuleViolation("reason_required", "a refund needs a reason")
        if minor > self.refundable:
            raise RefundExceedsCapturedError(minor, self.refundable)
        portion = (
            None
            if owner_portion is None
            else self._minor(owner_portion, "owner portion", zero_ok=True)
        )
        owner = self._refund_split(minor, portion)
        self._refund_requested(
            refund_id=refund_id,
            amount=minor,
            owner_portion=owner,
            platform_portion=minor - owner,
            reason=reason,
            by=by,
            role=role,
            at=at,
            **self._ids(),
            **self._owner_change(-owner),
        )
        return True

    def _refund_split(self, amount: int, owner_portion: int | None) -> int:
        owner_share, captured = self.charge["owner_share"], self.charge["captured"]
        owner_left = owner_share - self._active_refunds("owner_portion")
        platform_left = self.charge["platform_share"] - self._active_refunds("platform_portion")
        lo, hi = max(0, amount - platform_left), min(amount, owner_left)
        if owner_portion is not None:
            if not lo <= owner_portion <= hi:
                raise RuleViolation("bad_refund_split", f"owner portion must be in [{lo}, {hi}]")
            return owner_portion
        before = self.refunded
        pro_rata = round_half_up(owner_share * (before + amount), captured) - round_half_up(
            owner_share * before, captured
        )
        return min(max(pro_rata, lo), hi)

    @event("RefundRequested")
    def _refund_requested(
        self,
        refund_id: str,
        amount: int,
        owner_portion: int,
        platform_portion: int,
        reason: str,
        by: UUID | None,
        role: str,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
        owner_payable: int,
        owner_receivable: int,
        at: datetime,
    ) -> None:
        self.refunds[refund_id] = {
            "amount": amount,
            "owner_portion": owner_portion,
            "platform_portion": platform_portion,
            "reason": reason,
            "status": REQUESTED,
            "processor_id": None,
            "requested_at": at.isoformat(),
        }
        self._apply_owner(owner_payable, owner_receivable)
        self.updated_at = at

    def record_refund_id(self, refund_id: str, processor_refund_id: str, at: datetime) -> bool:
        refund = self.refunds.get(refund_id)
        if refund is None:
            raise NotFoundError("refund_not_found", f"refund {refund_id} not found")
        other = self.refund_by_processor_id.get(processor_refund_id)
        if refund["processor_id"] not in (None, processor_refund_id) or other not in (
            None,
            refund_id,
        ):
            raise ConflictError("refund_id_mismatch", "the refund has another processor id")
        if refund["processor_id"] == processor_refund_id:
            return False
        self._refund_id_recorded(refund_id, processor_refund_id, at)
        return True

    @event("RefundIdRecorded")
    def _refund_id_recorded(self, refund_id: str, processor_refund_id: str, at: datetime) -> None:
        self.refunds[refund_id]["processor_id"] = processor_refund_id
        self.refund_by_processor_id[processor_refund_id] = refund_id
        self.updated_at = at

    def _known_refund(self, processor_refund_id: str, refund_id: str | None) -> str | None:
        if refund_id is not None and refund_id in self.refunds:
            return refund_id
        return self.refund_by_processor_id.get(processor_refund_id)

    def record_refund_succeeded(
        self,
        event_id: str,
        processor_refund_id: str,
        amount: Money,
        at: datetime,
        refund_id: str | None = None,
    ) -> bool:
        """`refund_id` is ours when the processor echoes it (metadata); unknown refunds were
        made at the processor (dashboard, or before we heard of the capture)."""
        if self.has_processed(event_id) or processor_refund_id in self.failed_processor_refunds:
            return False
        minor = self._minor(amount, "refund")
        known = self._known_refund(processor_refund_id, refund_id)
        if known is not None:
            refund = self.refunds[known]
            if refund["status"] != REQUESTED:
                return False
            if refund["amount"] != minor:
                raise ConflictError("refund_amount_mismatch", "the processor refunded another sum")
            self._refund_succeeded(event_id, known, processor_refund_id, minor, at, **self._ids())
            return True
        if processor_refund_id in self.parked_refunds or (
            f"processor:{processor_refund_id}" in self.refunds
        ):
            return False
        captured = self.charge["captured"]
        if self.charge["status"] == "captured" and minor <= captured - self.refunded:
            self._apply_processor_refund(event_id, processor_refund_id, minor, at)
        else:
            self._refund_parked(event_id, processor_refund_id, minor, at)
        return True

    def _apply_processor_refund(
        self, event_id: str, processor_refund_id: str, amount: int, at: datetime
    ) -> None:
        refund_id = f"processor:{processor_refund_id}"
        owner = self._refund_split(amount, None)
        self._refund_requested(
            refund_id=refund_id,
            amount=amount,
            owner_portion=owner,
            platform_portion=amount - owner,
            reason="refunded at the processor",
            by=None,
            role="processor",
            at=at,
            **self._ids(),
            **self._owner_change(-owner),
        )
        self._refund_succeeded(event_id, refund_id, processor_refund_id, amount, at, **self._ids())

    @event("RefundParked")
    def _refund_parked(
        self, event_id: str, processor_refund_id: str, amount: int, at: datetime
    ) -> None:
        self.parked_refunds[processor_refund_id] = {"amount": amount, "event_id": event_id}
        self._seen(event_id, "RefundParked", at)

    @event("RefundSucceeded")
    def _refund_succeeded(
        self,
        event_id: str,
        refund_id: str,
        processor_refund_id: str,
        amount: int,
        at: datetime,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
    ) -> None:
        refund = self.refunds[refund_id]
        refund.update(status=SUCCEEDED, processor_id=processor_refund_id)
        self.refund_by_processor_id[processor_refund_id] = refund_id
        self.parked_refunds.pop(processor_refund_id, None)
        self._seen(event_id, "RefundSucceeded", at)

    def record_refund_failed(
        self,
        event_id: str,
        processor_refund_id: str,
        reason: str,
        at: datetime,
        refund_id: str | None = None,
    ) -> bool:
        if self.has_processed(event_id):
            return False
        known = self._known_refund(processor_refund_id, refund_id)
        if known is None:
            if processor_refund_id in self.failed_processor_refunds:
                return False
            self._unknown_refund_failed(event_id, processor_refund_id, reason, at)
            return True
        refund = self.refunds[known]
        if refund["status"] == FAILED:
            return False
        self._refund_failed(
            event_id=event_id,
            refund_id=known,
            processor_refund_id=processor_refund_id,
            stage=refund["status"],
            amount=refund["amount"],
            platform_portion=refund["platform_portion"],
            reason=reason,
            at=at,
            **self._ids(),
            **self._owner_change(refund["owner_portion"]),
        )
        return True

    @event("RefundFailed")
    def _refund_failed(
        self,
        event_id: str,
        refund_id: str,
        processor_refund_id: str,
        stage: str,
        amount: int,
        platform_portion: int,
        reason: str,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
        owner_payable: int,
        owner_receivable: int,
        at: datetime,
    ) -> None:
        self.refunds[refund_id].update(status=FAILED, failure=reason)
        if processor_refund_id:
            self.refunds[refund_id]["processor_id"] = processor_refund_id
            self.refund_by_processor_id[processor_refund_id] = refund_id
        self._apply_owner(owner_payable, owner_receivable)
        self._seen(event_id, "RefundFailed", at)

    @event("UnknownRefundFailed")
    def _unknown_refund_failed(
        self, event_id: str, processor_refund_id: str, reason: str, at: datetime
    ) -> None:
        self.failed_processor_refunds.append(processor_refund_id)
        self.parked_refunds.pop(processor_refund_id, None)
        self._seen(event_id, "UnknownRefundFailed", at)
