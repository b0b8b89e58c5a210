"""Dispute: a renter's or owner's claim about a finished booking, decided by an admin.

    open ──assign──► under_review ◄──answer── awaiting_information
      │                   │  └──request information──► awaiting_information
      └──request information──────────────────────────►┘
    open / under_review / awaiting_information ──resolve──► resolved
                                               ──withdraw (opener)──► withdrawn

- Opened by the booking's renter or owner from the booking's end (or the check-out that ended
  the stay, which opens the inspection window) until 48 h after it (half-open, like the refund
  tiers), with at most 20 http(s) evidence URLs per submission; a claim may cite items of the
  booking's condition reports and evidence photos (media ids), both checked by the caller.
- SLA, recorded as data: an admin acts (assigns or asks for information) within 72 h of the
  opening, and the dispute is resolved within 7 days of it. A scheduler or the queue view reads
  them; the aggregate never reads a clock.
- The other party responds at any time before the resolution; an information request names a
  party and a due time, and that party's next response answers it (back to under_review once
  nothing is outstanding).
- The resolution decides money, bounded by limits the caller passes in (what the renter paid and
  can still be refunded, the deposit still held). Money moves only through Payment commands:
  renter_favour refunds and captures nothing, owner_favour captures and refunds nothing, split
  may do both, rejected moves nothing.
Every transition records by, role, reason and at.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidTransition, PermissionDenied, RuleViolation
from domain.money import Money

OPEN = "open"
UNDER_REVIEW = "under_review"
AWAITING_INFORMATION = "awaiting_information"
RESOLVED = "resolved"
WITHDRAWN = "withdrawn"
LIVE = frozenset({OPEN, UNDER_REVIEW, AWAITING_INFORMATION})

TYPES = ("damage", "not_as_described", "cancellation", "payment", "other")
OUTCOMES = ("renter_favour", "owner_favour", "split", "rejected")
PARTIES = ("renter", "owner")
OPENING_WINDOW = timedelta(hours=48)
FIRST_ACTION_SLA = timedelta(hours=72)
RESOLUTION_SLA = timedelta(days=7)
MAX_EVIDENCE = 20
MAX_URL = 2048
MAX_TEXT = 5000


def validate_evidence(urls: list[str]) -> list[str]:
    if len(urls) > MAX_EVIDENCE:
        raise RuleViolation("too_much_evidence", f"at most {MAX_EVIDENCE} evidence URLs")
    for url in urls:
        parts = urlsplit(url) if isinstance(url, str) and len(url) <= MAX_URL else None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url)
        ):
            raise RuleViolation("bad_evidence_url", f"{str(url)[:80]!r} is not an http(s) URL")
    return list(urls)


def _text(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RuleViolation(f"{what}_required", f"a {what} is required")
    if len(value) > MAX_TEXT:
        raise RuleViolation(f"{what}_too_long", f"a {what} is at most {MAX_TEXT} characters")
    return value


def _money(value: Money | None, limit: Money, what: str) -> Money:
    amount = value if value is not None else Money.zero(limit.currency)
    if amount.currency != limit.currency:
        raise RuleViolation("currency_mismatch", f"{what} is not in {limit.currency}")
    if amount.amount < 0 or amount > limit:
        raise RuleViolation(f"bad_{what}", f"{what} must be between 0 and {limit.amount}")
    return amount


class Dispute(Aggregate):
    @classmethod
    def open(
        cls,
        *,
        booking_id: UUID,
        renter_id: UUID,
        owner_id: UUID,
        booking_ends_at: datetime,
        kind: str,
        description: str,
        claimed_amount: Money | None,
        evidence: list[str],
        by: UUID,
        at: datetime,
        cited_items: list[str] | None = None,
        photo_ids: list[UUID] | None = None,
    ) -> Dispute:
        """`booking_ends_at` opens the 48 h window: the check-out that ended the stay, else
        the booking's end. `cited_items` were checked against the booking's condition reports
        and `photo_ids` against the opener's uploads by the caller."""
        role = "renter" if by == renter_id else "owner" if by == owner_id else None
        if role is None:
            raise PermissionDenied("not_party", "only the booking's renter or owner can dispute")
        if not booking_ends_at <= at < booking_ends_at + OPENING_WINDOW:
            raise RuleViolation(
                "dispute_window_closed", "a dispute is opened within 48 h after the booking ends"
            )
        if kind not in TYPES:
            raise RuleViolation("bad_dispute_type", f"type must be one of {', '.join(TYPES)}")
        if claimed_amount is not None and claimed_amount.amount <= 0:
            raise RuleViolation("bad_claimed_amount", "a claimed amount is positive")
        if len(photo_ids or []) > MAX_EVIDENCE:
            raise RuleViolation("too_much_evidence", f"at most {MAX_EVIDENCE} evidence photos")
        return cls(
            booking_id=booking_id,
            renter_id=renter_id,
            owner_id=owner_id,
            kind=kind,
            description=_text(description, "description"),
            claimed_amount=claimed_amount.as_dict() if claimed_amount else None,
            evidence=validate_evidence(evidence),
            first_action_due=at + FIRST_ACTION_SLA,
            resolution_due=at + RESOLUTION_SLA,
            by=by,
            role=role,
            reason="dispute opened",
            at=at,
            cited_items=list(cited_items or []),
            photo_ids=[str(p) for p in dict.fromkeys(photo_ids or [])],
        )

    @event("Opened")
    def __init__(
        self,
        booking_id: UUID,
        renter_id: UUID,
        owner_id: UUID,
        kind: str,
        description: str,
        claimed_amount: dict[str, Any] | None,
        evidence: list[str],
        first_action_due: datetime,
        resolution_due: datetime,
        by: UUID,
        role: str,
        reason: str,
        at: datetime,
        cited_items: list[str] | None = None,  # absent from disputes opened before check-outs
        photo_ids: list[str] | None = None,
    ) -> None:
        self.booking_id, self.renter_id, self.owner_id = booking_id, renter_id, owner_id
        self.cited_items = list(cited_items or [])
        self.photo_ids = list(photo_ids or [])
        self.kind = kind
        self.description = description
        self.claimed_amount = claimed_amount
        self.opened_by, self.opener_role = by, role
        self.evidence: list[dict[str, Any]] = [{"by": role, "url": u} for u in evidence]
        self.responses: list[dict[str, Any]] = []
        self.information_requests: list[dict[str, Any]] = []
        self.assigned_admin: UUID | None = None
        self.deadlines: dict[str, str | None] = {
            "first_action_due": first_action_due.isoformat(),
            "resolution_due": resolution_due.isoformat(),
        }
        self.first_admin_action_at: str | None = None
        self.resolution: dict[str, Any] | None = None
        self.status = OPEN
        self.status_reason = reason
        self.opened_at = self.updated_at = at

    # -- queries ------------------------------------------------------------------------

    def party_role(self, user_id: UUID) -> str | None:
        return {self.renter_id: "renter", self.owner_id: "owner"}.get(user_id)

    def outstanding_requests(self, party: str) -> list[dict[str, Any]]:
        return [r for r in self.information_requests if r["to"] == party and not r["answered"]]

    def check_live(self, command: str) -> None:
        if self.status not in LIVE:
            raise InvalidTransition(
                "invalid_dispute_transition", f"cannot {command} a dispute that is {self.status}"
            )

    def check_admin(self, role: str) -> None:
        if role != "admin":
            raise PermissionDenied("not_admin", "only an admin can do that")

    # -- transitions ----------------------------------------------------------------------

    def assign(self, admin_id: UUID, by: UUID, role: str, at: datetime) -> None:
        self.check_live("assign")
        self.check_admin(role)
        status = UNDER_REVIEW if self.status == OPEN else self.status
        self._assigned(admin_id, status, by, role, "assigned", at)

    @event("Assigned")
    def _assigned(
        self, admin_id: UUID, status: str, by: UUID, role: str, reason: str, at: datetime
    ) -> None:
        self.assigned_admin = admin_id
        self._admin_acted(at)
        self._move(status, reason, at)

    def request_information(
        self, to: str, question: str, due_at: datetime, by: UUID, role: str, at: datetime
    ) -> None:
        self.check_live("request information on")
        self.check_admin(role)
        if to not in PARTIES:
            raise RuleViolation("bad_party", "information is asked of the renter or the owner")
        if due_at <= at:
            raise RuleViolation("bad_due_time", "the answer must be due after the request")
        question = _text(question, "question")
        self._information_requested(to, question, due_at, by, role, f"asked the {to}", at)

    @event("InformationRequested")
    def _information_requested(
        self,
        to: str,
        question: str,
        due_at: datetime,
        by: UUID,
        role: str,
        reason: str,
        at: datetime,
    ) -> None:
        self.information_requests.append(
            {
                "to": to,
                "question": question,
                "due_at": due_at.isoformat(),
                "by": str(by),
                "answered": False,
            }
        )
        if self.assigned_admin is None:
            self.assigned_admin = by
        self._admin_acted(at)
        self._move(AWAITING_INFORMATION, reason, at)

    def respond(self, message: str, evidence: list[str], by: UUID, at: datetime) -> None:
        """The other party's answer to the claim, or a party's answer to a request."""
        self.check_live("respond to")
        party = self.party_role(by)
        if party is None:
            raise PermissionDenied("not_party", "only the booking's renter or owner can respond")
        answers = bool(self.outstanding_requests(party))
        if party == self.opener_role and not answers:
            raise PermissionDenied("not_asked", "the opener adds information when asked for it")
        status = self.status
        if answers and self.outstanding_requests("owner" if party == "renter" else "renter"):
            status = AWAITING_INFORMATION
        elif answers:
            status = UNDER_REVIEW
        reason = "answered the information request" if answers else "responded to the claim"
        self._responded(
            _text(message, "message"), validate_evidence(evidence), status, by, party, reason, at
        )

    @event("Responded")
    def _responded(
        self,
        message: str,
        evidence: list[str],
        status: str,
        by: UUID,
        role: str,
        reason: str,
        at: datetime,
    ) -> None:
        for request in self.outstanding_requests(role):
            request["answered"] = True
        self.responses.append(
            {"by": str(by), "role": role, "message": message, "at": at.isoformat()}
        )
        self.evidence.extend({"by": role, "url": u} for u in evidence)
        self._move(status, reason, at)

    def resolve(
        self,
        outcome: str,
        refund_to_renter: Money | None,
        deposit_to_owner: Money | None,
        note: str,
        refund_limit: Money,
        deposit_limit: Money,
        by: UUID,
        role: str,
        at: datetime,
    ) -> None:
        """`refund_limit` is what can still be refunded to the renter, `deposit_limit` the
        deposit still held; the caller reads both from the booking's Payment."""
        self.check_live("resolve")
        self.check_admin(role)
        if outcome not in OUTCOMES:
            raise RuleViolation("bad_outcome", f"outcome must be one of {', '.join(OUTCOMES)}")
        refund = _money(refund_to_renter, refund_limit, "refund_to_renter")
        deposit = _money(deposit_to_owner, deposit_limit, "deposit_to_owner")
        if (outcome in ("owner_favour", "rejected") and refund.amount) or (
            outcome in ("renter_favour", "rejected") and deposit.amount
        ):
            raise RuleViolation("outcome_mismatch", f"{outcome} does not move that money")
        note = _text(note, "note")
        self._resolved(outcome, refund.as_dict(), deposit.as_dict(), note, by, role, outcome, at)

    @event("Resolved")
    def _resolved(
        self,
        outcome: str,
        refund_to_renter: dict[str, Any],
        deposit_to_owner: dict[str, Any],
        note: str,
        by: UUID,
        role: str,
        reason: str,
        at: datetime,
    ) -> None:
        self.resolution = {
            "outcome": outcome,
            "refund_to_renter": refund_to_renter,
            "deposit_to_owner": deposit_to_owner,
            "note": note,
            "by": str(by),
            "at": at.isoformat(),
        }
        self._admin_acted(at)
        self.deadlines = {"first_action_due": None, "resolution_due": None}
        self._move(RESOLVED, reason, at)

    def withdraw(self, reason: str, by: UUID, at: datetime) -> None:
        self.check_live("withdraw")
        if by != self.opened_by:
            raise PermissionDenied("not_opener", "only who opened a dispute can withdraw it")
        self._withdrawn(by, self.opener_role, _text(reason, "reason"), at)

    @event("Withdrawn")
    def _withdrawn(self, by: UUID, role: str, reason: str, at: datetime) -> None:
        self.deadlines = {"first_action_due": None, "resolution_due": None}
        self._move(WITHDRAWN, reason, at)

    def _admin_acted(self, at: datetime) -> None:
        if self.first_admin_action_at is None:
            self.first_admin_action_at = at.isoformat()
            self.deadlines["first_action_due"] = None

    def _move(self, status: str, reason: str, at: datetime) -> None:
        self.status = status
        self.status_reason = reason
        self.updated_at = at
