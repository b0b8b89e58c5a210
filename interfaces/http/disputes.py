"""Dispute endpoints: parties open, answer and withdraw; admins assign, ask, resolve, queue."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from interfaces.http.deps import AdminDep, CommandDep
from interfaces.http.dispute_schemas import (
    AssignRequest,
    DisputeCreate,
    DisputePublic,
    DisputeQueueItem,
    DisputeResponseCreate,
    InformationRequest,
    QueueStatus,
    ResolveRequest,
    WithdrawRequest,
    money_of,
)
from interfaces.http.etag import set_etag
from interfaces.http.pagination import PageParamsDep
from interfaces.http.positions import min_position, set_position
from interfaces.http.schemas_common import Page, problem_responses
from projections.disputes import list_disputes

router = APIRouter(tags=["disputes"], responses=problem_responses(401, 403, 404, 409, 422))


def _respond(
    command: CommandDep, response: Response, dispute_id: UUID, position: int
) -> DisputePublic:
    dispute = command.container.disputes.get(command.actor, dispute_id)
    set_position(response, position)
    set_etag(response, dispute.version)
    return DisputePublic.of(dispute)


@router.post(
    "/bookings/{booking_id}/disputes",
    status_code=status.HTTP_201_CREATED,
    response_model=DisputePublic,
)
def open_dispute(
    booking_id: UUID, body: DisputeCreate, command: CommandDep, response: Response
) -> DisputePublic:
    """The booking's renter or owner disputes it, from the booking's end (or the check-out
    that ended the stay) until 48 hours after (422 `dispute_window_closed` otherwise). An
    owner's damage claim (`type: damage`) cites condition-report items by name
    (`cited_items`, 422 `unknown_report_item` for a name no report of this booking has) and
    evidence photos it uploaded (`photo_ids`). The booking becomes `disputed` until an
    admin resolves the dispute or its opener withdraws it; an admin must act within 72 hours
    and resolve within 7 days (the `deadlines`)."""
    with command.context():
        dispute_id, position = command.container.disputes.open(
            command.actor,
            booking_id,
            kind=body.type,
            description=body.description,
            claimed_amount=money_of(body.claimed_amount),
            evidence=list(body.evidence),
            at=command.now,
            cited_items=list(body.cited_items),
            photo_ids=list(body.photo_ids),
        )
    response.headers["Location"] = f"/api/v1/disputes/{dispute_id}"
    return _respond(command, response, dispute_id, position)


@router.post(
    "/disputes/{dispute_id}/responses",
    status_code=status.HTTP_201_CREATED,
    response_model=DisputePublic,
)
def respond_to_dispute(
    dispute_id: UUID, body: DisputeResponseCreate, command: CommandDep, response: Response
) -> DisputePublic:
    """The other party answers the claim; either party answers an admin's information
    request addressed to them (the opener only then). Answers the dispute."""
    with command.context():
        position = command.container.disputes.respond(
            command.actor, dispute_id, body.message, list(body.evidence), command.now
        )
    return _respond(command, response, dispute_id, position)


@router.post("/disputes/{dispute_id}/withdraw", response_model=DisputePublic)
def withdraw_dispute(
    dispute_id: UUID, body: WithdrawRequest, command: CommandDep, response: Response
) -> DisputePublic:
    """The opener drops the dispute: the booking completes and any deposit still held is
    released."""
    with command.context():
        position = command.container.disputes.withdraw(
            command.actor, dispute_id, body.reason, command.now
        )
    return _respond(command, response, dispute_id, position)


@router.get("/disputes/{dispute_id}", response_model=DisputePublic)
def get_dispute(dispute_id: UUID, command: CommandDep, response: Response) -> DisputePublic:
    """A dispute with its evidence, responses, information requests and resolution, for the
    booking's renter and owner and for admins (404 for anyone else)."""
    dispute = command.container.disputes.get(command.actor, dispute_id)
    set_etag(response, dispute.version)
    return DisputePublic.of(dispute)


# -- admins ----------------------------------------------------------------------------------


@router.post("/admin/disputes/{dispute_id}/assign", response_model=DisputePublic)
def assign_dispute(
    dispute_id: UUID,
    body: AssignRequest,
    _admin: AdminDep,
    command: CommandDep,
    response: Response,
) -> DisputePublic:
    """Assigns the dispute to an admin (default: the caller); an open dispute goes
    `under_review`. 422 `not_an_admin` when `admin_id` is not an active admin."""
    with command.context():
        position = command.container.disputes.assign(
            command.actor, dispute_id, body.admin_id, command.now
        )
    return _respond(command, response, dispute_id, position)


@router.post("/admin/disputes/{dispute_id}/request-information", response_model=DisputePublic)
def request_dispute_information(
    dispute_id: UUID,
    body: InformationRequest,
    _admin: AdminDep,
    command: CommandDep,
    response: Response,
) -> DisputePublic:
    """Asks the renter or the owner a question, due by `due_at`; the dispute waits in
    `awaiting_information` until that party responds."""
    with command.context():
        position = command.container.disputes.request_information(
            command.actor,
            dispute_id,
            to=body.to,
            question=body.question,
            due_at=body.due_at,
            at=command.now,
        )
    return _respond(command, response, dispute_id, position)


@router.post("/admin/disputes/{dispute_id}/resolve", response_model=DisputePublic)
def resolve_dispute(
    dispute_id: UUID,
    body: ResolveRequest,
    _admin: AdminDep,
    command: CommandDep,
    response: Response,
) -> DisputePublic:
    """Decides the dispute and completes the booking. The money moves only through payment
    commands: `refund_to_renter` (at most what can still be refunded) as a refund,
    `deposit_to_owner` (at most the deposit still held) as a deposit capture, and any deposit
    not captured is released. 422 when an amount exceeds its limit or does not fit the
    outcome."""
    with command.context():
        position = command.container.disputes.resolve(
            command.actor,
            dispute_id,
            outcome=body.outcome,
            refund_to_renter=money_of(body.refund_to_renter),
            deposit_to_owner=money_of(body.deposit_to_owner),
            note=body.note,
            at=command.now,
        )
    return _respond(command, response, dispute_id, position)


@router.get(
    "/admin/disputes",
    response_model=Page[DisputeQueueItem],
    dependencies=[Depends(min_position("disputes"))],
)
def disputes_queue(
    _admin: AdminDep,
    command: CommandDep,
    page: PageParamsDep,
    status_filter: QueueStatus | None = Query(
        None, alias="status", description="A status, or `live` for every undecided one"
    ),
    overdue: bool | None = Query(None, description="Past an SLA due time (or not)"),
    assigned: str | None = Query(
        None,
        pattern=r"^(me|none|[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})$",
        description="`me`, `none` (unassigned) or an admin's id",
    ),
    booking_id: UUID | None = Query(None),
) -> Page[DisputeQueueItem]:
    """The disputes queue, oldest first, with each dispute's SLA due times and whether it
    is overdue now."""
    assigned_to = None
    if assigned == "me":
        assigned_to = command.actor.id
    elif assigned not in (None, "none"):
        assigned_to = UUID(assigned)
    container = command.container
    with container.views.connect() as conn:
        rows, next_cursor = list_disputes(
            conn,
            container.runner.tables("disputes"),
            now=command.now,
            status=status_filter,
            assigned_to=assigned_to,
            unassigned=assigned == "none",
            overdue=overdue,
            booking_id=booking_id,
            limit=page.limit,
            cursor=page.cursor,
        )
    return Page[DisputeQueueItem](
        data=[DisputeQueueItem.model_validate(r) for r in rows], next_cursor=next_cursor
    )
