"""Identity endpoints: sign-up, login, sessions, the caller's profile, roles."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from application.identity import UserDetails
from application.ports import Session
from domain.user import UNCHANGED
from interfaces.http.deps import (
    SESSION_COOKIE,
    AdminDep,
    CommandDep,
    ContainerDep,
    Now,
    PrincipalDep,
    anonymous_context,
    credentials,
)
from interfaces.http.etag import IfMatchDep, set_etag
from interfaces.http.offload import in_thread
from interfaces.http.pagination import PageParamsDep, offset_page
from interfaces.http.positions import set_position
from interfaces.http.ratelimits import AUTH_LOGIN, AUTH_REGISTER, rate_limit
from interfaces.http.schemas_common import Page, SafeStr, Schema, problem_responses

router = APIRouter(tags=["identity"])


class UserCreate(Schema):
    email: str = Field(max_length=320, examples=["ada@example.com"])
    password: str = Field(max_length=1024, description="At least 10 characters.")
    name: SafeStr = Field(max_length=100, examples=["Ada Lovelace"])
    phone: SafeStr | None = Field(default=None, max_length=40, examples=["+44 20 7946 0000"])


class UserUpdate(Schema):
    name: SafeStr | None = Field(default=None, max_length=100)
    phone: SafeStr | None = Field(
        default=None, max_length=40, description='Omit to keep; `""` clears it.'
    )
    bio: SafeStr | None = Field(
        default=None, max_length=2000, description='Omit to keep; `""` clears it.'
    )
    languages: list[Annotated[str, Field(max_length=8)]] | None = Field(
        default=None,
        max_length=20,
        description="Spoken languages as ISO 639-1 codes (`en`, `pt`); replaces the list.",
        examples=[["en", "pt"]],
    )
    avatar_media_id: UUID | None = Field(
        default=None,
        description="An image you uploaded (`POST /media`); `null` removes the avatar, "
        "omit to keep it.",
    )


class UserPublic(BaseModel):
    id: UUID
    email: str
    name: str
    phone: str | None
    roles: list[str]
    status: str
    created_at: datetime
    version: int
    bio: str
    languages: list[str]
    avatar_media_id: UUID | None
    email_verified: bool

    @classmethod
    def of(cls, user: UserDetails) -> UserPublic:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            phone=user.phone,
            roles=list(user.roles),
            status=user.status,
            created_at=user.created_at,
            version=user.version,
            bio=user.bio,
            languages=list(user.languages),
            avatar_media_id=user.avatar_media_id,
            email_verified=user.email_verified,
        )


class LoginRequest(Schema):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class LoginPublic(BaseModel):
    token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    expires_at: datetime
    csrf_token: str = Field(description="Send as `X-CSRF-Token` when using the cookie.")
    session_id: UUID
    user: UserPublic


class SessionPublic(BaseModel):
    id: UUID
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool

    @classmethod
    def of(cls, session: Session, current_id: UUID) -> SessionPublic:
        return cls(
            id=session.id,
            created_at=session.created_at,
            last_seen_at=session.last_seen_at,
            expires_at=session.expires_at,
            current=session.id == current_id,
        )


class RoleGrant(Schema):
    role: Literal["admin", "owner"]


def _user_response(response: Response, user: UserDetails, position: int) -> UserPublic:
    set_etag(response, user.version)
    set_position(response, position)
    return UserPublic.of(user)


@router.post(
    "/auth/register",
    status_code=201,
    dependencies=[Depends(rate_limit(*AUTH_REGISTER))],
    responses=problem_responses(409, 422, 429),
)
def register(
    body: UserCreate, request: Request, response: Response, container: ContainerDep, now: Now
) -> UserPublic:
    """Creates an account that can rent, and mails a token to verify the email (valid
    24 h; `POST /auth/verify-email`). Emails are unique, compared case-insensitively
    (409 `email_taken`); passwords have at least 10 characters (422 `weak_password`)."""
    with anonymous_context(request):
        user_id, position = container.identity.register(
            body.email, body.password, body.name, body.phone, at=now
        )
        position = container.account_tokens.send_verification(user_id, at=now) or position
    return _user_response(response, container.identity.get_user(user_id), position)


@router.post(
    "/auth/login",
    dependencies=[Depends(rate_limit(*AUTH_LOGIN))],
    responses=problem_responses(401, 423, 429),
)
def login(
    body: LoginRequest, request: Request, response: Response, container: ContainerDep, now: Now
) -> LoginPublic:
    """Starts a session: answers the bearer token and sets it as the `rentbook_session`
    HttpOnly cookie too (cookie clients must then send `X-CSRF-Token` on unsafe methods).
    Five failed attempts lock the account for 15 minutes (423 with `locked_until`)."""
    with anonymous_context(request):
        session, user_id, position = container.identity.login(body.email, body.password, at=now)
    assert session.token is not None
    settings = container.settings
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=settings.session_ttl_days * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.environment != "development",
        path="/",
    )
    response.headers["Cache-Control"] = "no-store"
    set_position(response, position)
    return LoginPublic(
        token=session.token,
        expires_at=session.expires_at,
        csrf_token=session.csrf_token,
        session_id=session.id,
        user=UserPublic.of(container.identity.get_user(user_id)),
    )


@router.post("/auth/logout", status_code=204, responses=problem_responses(401))
def logout(
    request: Request, response: Response, principal: PrincipalDep, container: ContainerDep
) -> None:
    """Ends the session the request was made with and clears the cookie."""
    found = credentials(request)
    if found is not None:
        container.identity.logout(found[0])
    response.delete_cookie(SESSION_COOKIE, path="/")
    set_position(response, 0)


@router.get("/auth/sessions", responses=problem_responses(401))
def list_sessions(
    principal: PrincipalDep, container: ContainerDep, now: Now, page: PageParamsDep
) -> Page[SessionPublic]:
    """The caller's live sessions, oldest first; `current` marks this one."""
    sessions = container.identity.sessions(principal.user_id, at=now)
    return offset_page([SessionPublic.of(s, principal.session_id) for s in sessions], page)


@router.delete(
    "/auth/sessions/{session_id}", status_code=204, responses=problem_responses(401, 404)
)
def revoke_session(
    session_id: UUID, response: Response, principal: PrincipalDep, container: ContainerDep
) -> None:
    """Ends one of the caller's sessions (404 for any other id)."""
    container.identity.revoke_session(principal.user_id, session_id)
    set_position(response, 0)


@router.get("/users/me", responses=problem_responses(401))
@in_thread  # validated on the event loop: one thread-pool hop, not two
def get_me(response: Response, principal: PrincipalDep, container: ContainerDep) -> UserPublic:
    """The caller's profile; its `ETag` is what `PATCH /users/me` takes as `If-Match`."""
    user = container.identity.get_user(principal.user_id)
    set_etag(response, user.version)
    return UserPublic.of(user)


@router.patch("/users/me", responses=problem_responses(401, 412, 422))
def update_me(
    body: UserUpdate, response: Response, cmd: CommandDep, if_match: IfMatchDep
) -> UserPublic:
    """Edits the caller's profile: name, phone, bio (≤ 2000 characters), languages (ISO
    639-1) and avatar (media you uploaded; 422 `media_not_found` otherwise). Omitted fields
    stay as they are. With `If-Match`, 412 when the profile changed since that version.
    The public profile (`GET /users/{id}`) shows all but the phone."""
    avatar = body.avatar_media_id if "avatar_media_id" in body.model_fields_set else UNCHANGED
    with cmd.context():
        position = cmd.container.profiles.edit(
            cmd.principal.user_id,
            name=body.name,
            phone=body.phone,
            bio=body.bio,
            languages=body.languages,
            avatar_media_id=avatar,
            at=cmd.now,
            expected_version=if_match,
        )
    user = cmd.container.identity.get_user(cmd.principal.user_id)
    return _user_response(response, user, position)


@router.post(
    "/admin/users/{user_id}/roles", tags=["admin"], responses=problem_responses(401, 403, 404)
)
def grant_role(
    user_id: UUID, body: RoleGrant, response: Response, admin: AdminDep, cmd: CommandDep
) -> UserPublic:
    """Grants `admin` or `owner` to a user (admins only)."""
    identity = cmd.container.identity
    with cmd.context():
        position = identity.grant_role(user_id, body.role, by_admin=admin.user_id, at=cmd.now)
    return _user_response(response, identity.get_user(user_id), position)
