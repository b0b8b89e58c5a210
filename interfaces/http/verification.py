"""Email verification and password reset: tokens mailed to the account's address.

Tokens are signed, expire (24 h for verification, 1 h for a reset) and work once; a newer
token of the same kind replaces the older. These endpoints have the strictest rate limits."""

from __future__ import annotations

import hashlib
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from application.tokens import MAX_TOKEN_LENGTH
from interfaces.http.deps import CommandDep, ContainerDep, Now, anonymous_context
from interfaces.http.positions import set_position
from interfaces.http.ratelimits import effective_limit, rate_limit
from interfaces.http.schemas_common import Schema, problem_responses

router = APIRouter(tags=["identity"])

# (bucket, limit, window seconds): per user when signed in, else per client IP.
VERIFY = ("auth.verify_email", 10, 60)
RESEND = ("auth.verify_email_resend", 3, 600)
RESET = ("auth.password_reset", 5, 900)
RESET_CONFIRM = ("auth.password_reset_confirm", 10, 900)
# Per address, on top of the per-IP limit: nobody can flood one inbox. Past it the answer
# stays 202 and no mail goes out, so the limit reveals nothing either.
RESET_MAILS = ("auth.password_reset_mail", 3, 3600)


class TokenIn(Schema):
    token: str = Field(max_length=MAX_TOKEN_LENGTH, description="The token from the mail.")


class PasswordResetIn(Schema):
    email: str = Field(max_length=320, examples=["ada@example.com"])


class PasswordResetConfirm(Schema):
    token: str = Field(max_length=MAX_TOKEN_LENGTH, description="The token from the mail.")
    password: str = Field(max_length=1024, description="The new password, ≥ 10 characters.")


class EmailVerifiedPublic(BaseModel):
    user_id: UUID
    email_verified: bool = True


class Accepted(BaseModel):
    accepted: bool = True


class PasswordResetPublic(BaseModel):
    user_id: UUID
    sessions_revoked: bool = Field(True, description="Every session of the user has ended.")


@router.post(
    "/auth/verify-email",
    dependencies=[Depends(rate_limit(*VERIFY))],
    responses=problem_responses(422, 429),
)
def verify_email(
    body: TokenIn, request: Request, response: Response, container: ContainerDep, now: Now
) -> EmailVerifiedPublic:
    """Verifies the account's email with the token mailed at sign-up (or by `resend`).
    422 `invalid_token` for a forged, used or superseded token, `token_expired` after
    24 h; nothing is recorded then."""
    with anonymous_context(request):
        user_id, position = container.account_tokens.verify_email(body.token, at=now)
    set_position(response, position)
    return EmailVerifiedPublic(user_id=user_id)


@router.post(
    "/auth/verify-email/resend",
    status_code=202,
    dependencies=[Depends(rate_limit(*RESEND))],
    responses=problem_responses(401, 409, 429),
)
def resend_verification(command: CommandDep, response: Response) -> Accepted:
    """Mails the caller a new verification token; earlier ones stop working. 409
    `email_already_verified` when there is nothing to verify."""
    with command.context():
        position = command.container.account_tokens.send_verification(
            command.principal.user_id, at=command.now
        )
    set_position(response, position)
    return Accepted()


@router.post(
    "/auth/password-reset",
    status_code=202,
    dependencies=[Depends(rate_limit(*RESET))],
    responses=problem_responses(429),
)
def request_password_reset(
    body: PasswordResetIn,
    request: Request,
    response: Response,
    container: ContainerDep,
    now: Now,
) -> Accepted:
    """Mails a password-reset token (valid 1 h) when an account has this email. The answer
    is 202 whether or not it has, so accounts cannot be discovered here."""
    if _may_mail(request, container, body.email):
        with anonymous_context(request):
            container.account_tokens.request_password_reset(body.email, at=now)
    # The log's head, not this command's own position: 0 would say "no such account".
    set_position(response, container.store.current_position())
    return Accepted()


@router.post(
    "/auth/password-reset/confirm",
    dependencies=[Depends(rate_limit(*RESET_CONFIRM))],
    responses=problem_responses(422, 429),
)
def confirm_password_reset(
    body: PasswordResetConfirm,
    request: Request,
    response: Response,
    container: ContainerDep,
    now: Now,
) -> PasswordResetPublic:
    """Sets a new password (≥ 10 characters, 422 `weak_password`) with the mailed token and
    ends every session of the account. 422 `invalid_token` for a forged, used or
    superseded token, `token_expired` after an hour; nothing is recorded then."""
    with anonymous_context(request):
        user_id, position = container.account_tokens.reset_password(
            body.token, body.password, at=now
        )
    set_position(response, position)
    return PasswordResetPublic(user_id=user_id)


def _may_mail(request: Request, container: ContainerDep, email: str) -> bool:
    bucket, limit, window = RESET_MAILS
    chosen = effective_limit(request, bucket, (limit, window))
    if chosen is None:
        return True
    address = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return container.rate_limiter.hit(f"rl:{bucket}:{address}", *chosen).allowed
