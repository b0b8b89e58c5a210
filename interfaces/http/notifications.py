"""Notification endpoints: the caller's in-app notifications, marking them read, and
their notification preferences per kind and channel."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends

from infrastructure.notification_store import NotificationStore
from interfaces.http.deps import ContainerDep, PrincipalDep
from interfaces.http.notification_schemas import (
    NotificationPublic,
    NotificationsPage,
    PreferencesPublic,
    PreferencesUpdate,
    ReadRequest,
    ReadResult,
)
from interfaces.http.pagination import PageParamsDep, decode_cursor, encode_cursor
from interfaces.http.positions import min_position
from interfaces.http.problems import ProblemError
from interfaces.http.schemas_common import problem_responses

# 503: `notifications_unavailable` (not configured) or `views_behind` (min-position wait).
router = APIRouter(tags=["notifications"], responses=problem_responses(401, 422, 503))


def _store(container: ContainerDep) -> NotificationStore:
    if container.notifications is None:
        raise ProblemError(503, "notifications_unavailable", "notifications are not configured")
    return container.notifications.store


def _after(cursor: str | None) -> tuple[int, UUID] | None:
    value = decode_cursor(cursor)
    if not value:
        return None
    try:
        return int(value["p"]), UUID(str(value["i"]))
    except (KeyError, TypeError, ValueError):
        raise ProblemError(422, "invalid_cursor", "the cursor is not one this API issued") from None


@router.get(
    "/me/notifications",
    response_model=NotificationsPage,
    dependencies=[Depends(min_position("notifications"))],
    summary="List my notifications",
)
def my_notifications(
    principal: PrincipalDep, container: ContainerDep, page: PageParamsDep
) -> NotificationsPage:
    """The caller's notifications, newest first, with how many are unread. Kinds whose
    in-app channel the caller turned off are left out (and not counted). Pages by
    `limit` and the `next_cursor` of the previous page (422 `invalid_cursor` for one this
    API did not issue); `X-Rentbook-Min-Position` waits for a command's events first."""
    store = _store(container)
    rows, unread = store.page(principal.user_id, page.limit, _after(page.cursor))
    more = len(rows) > page.limit
    shown = rows[: page.limit]
    last = shown[-1] if shown else None
    cursor = encode_cursor({"p": last["position"], "i": str(last["id"])}) if more and last else None
    data = [NotificationPublic(**r) for r in shown]
    return NotificationsPage(data=data, next_cursor=cursor, unread_count=unread)


@router.post(
    "/me/notifications/read", response_model=ReadResult, summary="Mark my notifications read"
)
def mark_read(body: ReadRequest, principal: PrincipalDep, container: ContainerDep) -> ReadResult:
    """Marks the caller's notifications read: `{"up_to": position}` marks every one at or
    below that position (pass the newest `position` you showed), `{"ids": [...]}` marks
    those (ids of other users' notifications change nothing). Idempotent. Answers the
    unread count left; 422 when neither is given."""
    store = _store(container)
    store.mark_read(principal.user_id, up_to=body.up_to, ids=list(body.ids or []))
    _, unread = store.page(principal.user_id, 0, None)
    return ReadResult(unread_count=unread)


def _preferences(store: NotificationStore, user_id: UUID) -> PreferencesPublic:
    rows: list[Any] = store.preferences(user_id)
    return PreferencesPublic.model_validate({"preferences": rows})


@router.get(
    "/me/notification-preferences",
    response_model=PreferencesPublic,
    summary="My notification preferences",
)
def my_preferences(principal: PrincipalDep, container: ContainerDep) -> PreferencesPublic:
    """Every notification kind on each channel (`in_app`, `email`), on unless turned off.
    `locked` ones (receipts, security mail) cannot be turned off."""
    return _preferences(_store(container), principal.user_id)


@router.put(
    "/me/notification-preferences",
    response_model=PreferencesPublic,
    summary="Set my notification preferences",
)
def set_preferences(
    body: PreferencesUpdate, principal: PrincipalDep, container: ContainerDep
) -> PreferencesPublic:
    """Turns kinds on or off per channel; kinds not listed keep their setting. Turning off
    transactional email (booking_confirmed, refund_sent, payout_sent, verify_email,
    password_reset) is refused with 422 `transactional_mail`, and then nothing changes.
    Answers every preference, as `GET` does."""
    store = _store(container)
    changes = [(p.kind, str(p.channel), p.enabled) for p in body.preferences]
    store.set_preferences(principal.user_id, changes)
    return _preferences(store, principal.user_id)
