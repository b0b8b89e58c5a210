"""Personal data: the caller's export, and erasure (by the user or by an admin)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field
from sqlalchemy import or_, select

from infrastructure.bootstrap import Container
from interfaces.http.deps import AdminDep, CommandDep, ContainerDep, PrincipalDep
from interfaces.http.idempotency_erasure import forget_answers_about
from interfaces.http.identity import UserPublic
from interfaces.http.positions import min_position, set_position
from interfaces.http.schemas_common import Schema, problem_responses

router = APIRouter(tags=["identity"])

# Export section -> (view, table, the columns that name the user).
SECTIONS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "public_profile": ("profiles", "profiles", ("id",)),
    "listings": ("listings", "listings", ("owner_id",)),
    "bookings": ("bookings", "bookings", ("renter_id", "owner_id")),
    "payments": ("payments", "payments", ("renter_id", "owner_id")),
    "owner_balances": ("ledger", "balances", ("owner_id",)),
    "reviews_written": ("reviews", "reviews", ("reviewer_id",)),
    "reviews_received": ("reviews", "reviews", ("reviewee_id",)),
    "disputes": ("disputes", "disputes", ("renter_id", "owner_id")),
    "conversations": ("conversations", "conversations", ("renter_id", "owner_id")),
    "messages": ("conversations", "messages", ("sender_id", "recipient_id")),
    "media": ("media", "media", ("owner_id",)),
}
EXPORT_VIEWS = tuple(sorted({view for view, _, _ in SECTIONS.values()}))


class PersonalDataExport(BaseModel):
    profile: UserPublic
    sessions: list[dict[str, Any]] = Field(description="Live sessions (no tokens).")
    sections: dict[str, list[dict[str, Any]]] = Field(
        description="Rows about the user from each view: "
        + ", ".join(f"`{name}`" for name in SECTIONS)
        + ". Money in minor units, instants in UTC."
    )


class ErasureRequest(Schema):
    password: str = Field(max_length=1024, description="The current password, again.")


class ErasurePublic(BaseModel):
    id: UUID
    status: str = Field(examples=["erased"])


@router.get(
    "/users/me/export",
    dependencies=[Depends(min_position(*EXPORT_VIEWS))],
    responses=problem_responses(401),
)
def export_me(principal: PrincipalDep, container: ContainerDep) -> PersonalDataExport:
    """Everything Rentbook holds about the caller, as JSON: the account (with email and
    phone), live sessions, and their rows in every view: public profile, listings,
    bookings (as renter and owner), payments, owner balances, reviews written and
    received, disputes, conversations and messages, uploaded media."""
    return export_user(container, principal.user_id)


def export_user(container: Container, user_id: UUID) -> PersonalDataExport:
    """What `GET /users/me/export` answers for `user_id`."""
    user = container.identity.get_user(user_id)
    sessions = container.identity.sessions(user_id, at=container.clock.now())
    sections: dict[str, list[dict[str, Any]]] = {}
    with container.views.connect() as conn:
        for name, (view, logical, columns) in SECTIONS.items():
            table = container.runner.tables(view)[logical]
            matches = (table.c[c] == _key(table, c, user_id) for c in columns)
            rows = conn.execute(select(table).where(or_(*matches))).mappings().all()
            sections[name] = [jsonable_encoder(dict(row)) for row in rows]
    return PersonalDataExport(
        profile=UserPublic.of(user),
        sessions=[jsonable_encoder(s) for s in sessions],
        sections=sections,
    )


@router.delete("/users/me", responses=problem_responses(401, 422))
def erase_me(body: ErasureRequest, response: Response, cmd: CommandDep) -> ErasurePublic:
    """Erases the caller's account: their personal data (name, email, phone, bio, booking
    messages, review texts, dispute statements, message texts) is destroyed for good,
    every session ends, and the account can no longer sign in; bookings, payments and the
    ledger stay, without the personal data. Needs the current password (422
    `wrong_password`). Answers once the views show the data as erased."""
    with cmd.context():
        position = cmd.container.erasure.erase_self(
            cmd.principal.user_id, body.password, at=cmd.now
        )
    forget_answers_about(cmd.container.views, cmd.principal.user_id)
    set_position(response, position)
    return ErasurePublic(id=cmd.principal.user_id, status="erased")


@router.delete("/admin/users/{user_id}", tags=["admin"], responses=problem_responses(401, 403, 404))
def erase_user(
    user_id: UUID, response: Response, admin: AdminDep, cmd: CommandDep
) -> ErasurePublic:
    """Erases a user's account as `DELETE /users/me` does (admins only; the `User.Erased`
    event names the admin). Idempotent."""
    with cmd.context():
        position = cmd.container.erasure.erase_by_admin(user_id, by_admin=admin.user_id, at=cmd.now)
    forget_answers_about(cmd.container.views, user_id)
    set_position(response, position)
    return ErasurePublic(id=user_id, status="erased")


def _key(table: Any, column: str, user_id: UUID) -> Any:
    """Ids are stored as strings in some views and as UUIDs in others."""
    return user_id if table.c[column].type.python_type is UUID else str(user_id)
