"""Dispute request/response schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from domain.dispute import MAX_EVIDENCE, MAX_TEXT, MAX_URL, Dispute
from domain.money import Money
from domain.stay import MAX_CITED, MAX_NAME
from interfaces.http.schemas_common import MoneyIn, MoneyPublic, SafeStr, Schema

DisputeType = Literal["damage", "not_as_described", "cancellation", "payment", "other"]
Outcome = Literal["renter_favour", "owner_favour", "split", "rejected"]
Party = Literal["renter", "owner"]
QueueStatus = Literal[
    "live", "open", "under_review", "awaiting_information", "resolved", "withdrawn"
]

EvidenceUrl = Annotated[SafeStr, Field(max_length=MAX_URL, examples=["https://example.com/a.jpg"])]
EvidenceList = Annotated[
    list[EvidenceUrl],
    Field(default_factory=list, max_length=MAX_EVIDENCE, description="http(s) URLs, at most 20"),
]
Text = Annotated[SafeStr, Field(min_length=1, max_length=MAX_TEXT)]


def money_of(value: MoneyIn | None) -> Money | None:
    return None if value is None else Money(value.amount, value.currency)


class DisputeCreate(Schema):
    type: DisputeType
    description: Text
    claimed_amount: MoneyIn | None = Field(default=None, description="What the opener claims")
    evidence: EvidenceList
    cited_items: list[Annotated[SafeStr, Field(max_length=MAX_NAME)]] = Field(
        default_factory=list,
        max_length=MAX_CITED,
        description="Names of items in this booking's check-in/check-out condition reports "
        "(e.g. a damage claim citing what the check-out report found damaged)",
    )
    photo_ids: list[UUID] = Field(
        default_factory=list,
        max_length=MAX_EVIDENCE,
        description="Evidence photos: media ids the opener uploaded",
    )


class DisputeResponseCreate(Schema):
    message: Text
    evidence: EvidenceList


class WithdrawRequest(Schema):
    reason: Text


class AssignRequest(Schema):
    admin_id: UUID | None = Field(default=None, description="An admin; default: the caller")


class InformationRequest(Schema):
    to: Party
    question: Text
    due_at: AwareDatetime = Field(description="When the answer is due (RFC 3339)")


class ResolveRequest(Schema):
    outcome: Outcome = Field(
        description="renter_favour refunds (no deposit capture), owner_favour captures "
        "deposit (no refund), split may do both, rejected moves no money"
    )
    refund_to_renter: MoneyIn | None = Field(
        default=None, description="At most what the renter paid and can still be refunded"
    )
    deposit_to_owner: MoneyIn | None = Field(
        default=None, description="At most the deposit still held"
    )
    note: Text


class EvidencePublic(BaseModel):
    by: Party
    url: str


class DisputeResponsePublic(BaseModel):
    by: UUID
    role: Party
    message: str
    at: datetime


class InformationRequestPublic(BaseModel):
    to: Party
    question: str
    due_at: datetime
    by: UUID
    answered: bool


class ResolutionPublic(BaseModel):
    outcome: Outcome
    refund_to_renter: MoneyPublic
    deposit_to_owner: MoneyPublic
    note: str
    by: UUID
    at: datetime


class DisputePublic(BaseModel):
    id: UUID
    version: int
    booking_id: UUID
    renter_id: UUID
    owner_id: UUID
    opened_by: UUID
    opener_role: Party
    type: str
    description: str
    claimed_amount: MoneyPublic | None
    evidence: list[EvidencePublic]
    responses: list[DisputeResponsePublic]
    information_requests: list[InformationRequestPublic]
    assigned_admin_id: UUID | None
    status: str
    status_reason: str
    deadlines: dict[str, str | None] = Field(
        description="SLA due times: first admin action (72 h), resolution (7 days); null once met"
    )
    resolution: ResolutionPublic | None
    opened_at: datetime
    updated_at: datetime
    cited_items: list[str] = Field(description="Condition-report items the claim cites")
    photo_ids: list[UUID] = Field(description="Evidence photos (media ids) of the opener")

    @classmethod
    def of(cls, d: Dispute) -> DisputePublic:
        data: dict[str, Any] = {
            "id": d.id,
            "version": d.version,
            "booking_id": d.booking_id,
            "renter_id": d.renter_id,
            "owner_id": d.owner_id,
            "opened_by": d.opened_by,
            "opener_role": d.opener_role,
            "type": d.kind,
            "description": d.description,
            "claimed_amount": d.claimed_amount,
            "evidence": d.evidence,
            "responses": d.responses,
            "information_requests": d.information_requests,
            "assigned_admin_id": d.assigned_admin,
            "status": d.status,
            "status_reason": d.status_reason,
            "deadlines": dict(d.deadlines),
            "resolution": d.resolution,
            "opened_at": d.opened_at,
            "updated_at": d.updated_at,
            "cited_items": d.cited_items,
            "photo_ids": d.photo_ids,
        }
        return cls.model_validate(data)


class DisputeQueueItem(BaseModel):
    """A row of the admins' disputes queue."""

    id: UUID
    version: int
    booking_id: UUID
    renter_id: UUID
    owner_id: UUID
    opened_by: UUID
    opener_role: Party
    type: str
    status: str
    assigned_admin_id: UUID | None
    claimed_amount: MoneyPublic | None
    first_action_due: str | None
    resolution_due: str | None
    renter_information_due: str | None
    owner_information_due: str | None
    overdue: bool = Field(description="An SLA due time has passed")
    outcome: str | None
    opened_at: str
    updated_at: str
    closed_at: str | None
