"""Admin endpoints: replay a stream's history, time travel, the audit index, projections."""

from __future__ import annotations

import base64
import dataclasses
import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, field_validator

from application.time_travel import state_at, utc
from domain.errors import NotFoundError
from domain.event_meta import event_meta
from domain.periods import check_supported
from interfaces.http.deps import AdminDep, ContainerDep
from interfaces.http.pagination import PageParamsDep, decode_cursor, encode_cursor
from interfaces.http.positions import min_position, set_position
from interfaces.http.schemas_common import Page, problem_responses
from projections.audit import search_audit

router = APIRouter(prefix="/admin", tags=["admin"], responses=problem_responses(401, 403, 404, 422))

_ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "_meta"})
_SECRET_WORDS = ("password", "secret", "token")
MAX_DEPTH = 32
# Query filters are compared in SQL: no NUL or other control characters (PostgreSQL refuses NUL).
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


class EventPublic(BaseModel):
    version: int
    type: str
    topic: str
    recorded_at: datetime
    actor_id: str | None
    actor_role: str | None
    correlation_id: str | None
    causation_id: str | None
    request_id: str | None
    payload: dict[str, Any]


class StatePublic(BaseModel):
    aggregate_id: UUID
    type: str
    version: int
    recorded_at: datetime
    state: dict[str, Any]


class AuditEntryPublic(BaseModel):
    position: int
    stream_id: str
    version: int
    type: str
    topic: str
    actor_id: str | None
    actor_role: str | None
    correlation_id: str | None
    causation_id: str | None
    request_id: str | None
    recorded_at: str


class ProjectionPublic(BaseModel):
    name: str
    position: int
    lag_events: int
    lag_seconds: float
    status: str
    error: str | None
    version: int
    updated_at: datetime | None
    last_event_at: datetime | None

    @field_validator("updated_at", "last_event_at")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        return utc(value) if value is not None else None


class ProjectionsPublic(BaseModel):
    data: list[ProjectionPublic]


class RebuildPublic(BaseModel):
    name: str
    position: int
    status: str


def jsonable(value: Any, depth: int = 0) -> Any:
    """Any aggregate or event attribute as JSON, secrets (password hashes, tokens) redacted."""
    if depth > MAX_DEPTH:
        return repr(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return jsonable(value.value, depth + 1)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {str(k): _field(str(k), v, depth) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((jsonable(v, depth + 1) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [jsonable(v, depth + 1) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _field(f.name, getattr(value, f.name), depth) for f in dataclasses.fields(value)
        }
    if hasattr(value, "__dict__"):
        return {k: _field(k, v, depth) for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)


def _field(name: str, value: Any, depth: int) -> Any:
    if any(word in name.lower() for word in _SECRET_WORDS) and value is not None:
        return "[redacted]"
    return jsonable(value, depth + 1)


def _event_public(event: Any) -> EventPublic:
    meta = event_meta(event)
    cls = type(event)
    payload = {k: _field(k, v, 0) for k, v in vars(event).items() if k not in _ENVELOPE}
    return EventPublic(
        version=event.originator_version,
        type=cls.__qualname__,
        topic=f"{cls.__module__}:{cls.__qualname__}",
        recorded_at=utc(event.timestamp),
        actor_id=meta.get("actor_id") or None,
        actor_role=meta.get("actor_role") or None,
        correlation_id=meta.get("correlation_id") or None,
        causation_id=meta.get("causation_id") or None,
        request_id=meta.get("request_id") or None,
        payload=payload,
    )


def _head(container: Any, aggregate_id: UUID) -> Any:
    last = list(container.store.events.get(aggregate_id, desc=True, limit=1))
    if not last:
        raise NotFoundError("stream_not_found", f"no stream {aggregate_id}")
    return last[0]


@router.get("/streams/{aggregate_id}/events")
def stream_events(
    aggregate_id: UUID,
    _: AdminDep,
    container: ContainerDep,
    page: PageParamsDep,
    from_version: Annotated[int, Query(ge=1, le=2**31)] = 1,
) -> Page[EventPublic]:
    """Every event of one stream in order, from `from_version`, with its envelope (who,
    when, correlation and causation ids) and payload. Secrets are redacted."""
    _head(container, aggregate_id)
    after = decode_cursor(page.cursor).get("v", from_version - 1)
    if not isinstance(after, int) or after < 0:
        after = from_version - 1
    events = list(container.store.events.get(aggregate_id, gt=after, limit=page.limit + 1))
    more = len(events) > page.limit
    shown = [_event_public(e) for e in events[: page.limit]]
    next_cursor = encode_cursor({"v": shown[-1].version}) if more and shown else None
    return Page[EventPublic](data=shown, next_cursor=next_cursor)


@router.get("/streams/{aggregate_id}/state")
def stream_state(
    aggregate_id: UUID,
    _: AdminDep,
    container: ContainerDep,
    version: Annotated[int | None, Query(ge=1, le=2**31)] = None,
    at: Annotated[datetime | None, Query(description="RFC 3339 instant")] = None,
) -> StatePublic:
    """The aggregate as it was at `version`, or as of the instant `at` (the last version
    recorded then), or now. 404 when it did not exist yet."""
    aggregate: Any = state_at(container.store, aggregate_id, version=version, at=at)
    state = {k: _field(k, v, 0) for k, v in vars(aggregate).items() if not k.startswith("_")}
    return StatePublic(
        aggregate_id=aggregate_id,
        type=type(aggregate).__qualname__,
        version=aggregate.version,
        recorded_at=utc(aggregate.modified_on),
        state=state,
    )


@router.get("/audit", dependencies=[Depends(min_position("audit"))])
def audit(
    _: AdminDep,
    container: ContainerDep,
    page: PageParamsDep,
    actor: Annotated[
        str | None, Query(max_length=64, pattern=_PRINTABLE, description="Actor (user) id")
    ] = None,
    type: Annotated[
        str | None, Query(max_length=200, pattern=_PRINTABLE, examples=["Booking.Confirmed"])
    ] = None,
    frm: Annotated[datetime | None, Query(alias="from")] = None,
    to: Annotated[datetime | None, Query()] = None,
) -> Page[AuditEntryPublic]:
    """The event index across every stream, in log order, by actor, event type and
    recorded time in [`from`, `to`)."""
    for instant, what in ((frm, "from"), (to, "to")):
        if instant is not None:
            check_supported(instant, what)  # far-off years overflow when moved to UTC
    with container.views.connect() as conn:
        rows, next_cursor = search_audit(
            conn,
            container.runner.tables("audit"),
            actor=actor,
            type=type,
            frm=frm,
            to=to,
            limit=page.limit,
            cursor=page.cursor,
        )
    return Page[AuditEntryPublic](
        data=[AuditEntryPublic(**r) for r in rows], next_cursor=next_cursor
    )


@router.get("/projections")
def projections(_: AdminDep, container: ContainerDep) -> ProjectionsPublic:
    """Each projection's position, lag (events and seconds) and status."""
    return ProjectionsPublic(data=[ProjectionPublic(**s) for s in container.runner.status()])


@router.post("/projections/{name}/rebuild")
def rebuild_projection(
    name: str, _: AdminDep, container: ContainerDep, response: Response
) -> RebuildPublic:
    """Rebuilds the view from the start of the log into fresh tables while the live one
    keeps serving, then swaps them in. Answers when done."""
    if name not in {s["name"] for s in container.runner.status()}:
        raise NotFoundError("projection_not_found", f"no projection {name!r}")
    position = container.runner.rebuild(name)
    set_position(response, 0)
    return RebuildPublic(name=name, position=position, status="rebuilt")
