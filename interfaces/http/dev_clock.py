"""The movable clock's dev endpoints: on a non-production environment with the simulated
gateway (like `/dev/payments`), move the application's clock forward and run what fell due,
so a whole stay can be walked through by hand or by black-box tests in minutes."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, field_validator

from infrastructure.bootstrap import Container
from infrastructure.clock import OffsetClock
from infrastructure.simulated_gateway import SimulatedGateway
from infrastructure.time_travel import advance, movable_clock
from interfaces.http.deps import CommandDep, ContainerDep, anonymous_context
from interfaces.http.positions import set_position
from interfaces.http.problems import ProblemError
from interfaces.http.schemas_common import Schema

router = APIRouter(tags=["dev"])

# Weeks, days and time parts only: years and months have no fixed length.
_DURATION = re.compile(
    r"(?P<sign>[-+])?P(?:(?P<w>\d{1,6})W)?(?:(?P<d>\d{1,7})D)?"
    r"(?:T(?=\d)(?:(?P<h>\d{1,8})H)?(?:(?P<m>\d{1,10})M)?(?:(?P<s>\d{1,12})S)?)?"
)
MAX_ADVANCE = timedelta(days=3650)


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration such as `PT26H`, `P2DT3H30M`, `P1W` or `-PT1H` (negative);
    ValueError otherwise."""
    match = _DURATION.fullmatch(text.strip().upper())
    if match is None:
        raise ValueError("an ISO 8601 duration such as PT26H or P2DT3H (no years or months)")
    groups = match.groupdict()
    sign = -1 if groups.pop("sign") == "-" else 1
    parts = {k: int(v) for k, v in groups.items() if v is not None}
    if not parts:
        raise ValueError("an ISO 8601 duration needs at least one part, e.g. PT1H")
    total = timedelta(
        weeks=parts.get("w", 0),
        days=parts.get("d", 0),
        hours=parts.get("h", 0),
        minutes=parts.get("m", 0),
        seconds=parts.get("s", 0),
    )  # each part is bounded by the pattern, so this cannot overflow
    return sign * total


def format_duration(delta: timedelta) -> str:
    """The ISO 8601 form of a non-negative duration: `P1DT2H`, `PT0S`."""
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    text = f"P{days}D" if days else "P"
    if time or not days:
        text += "T" + (time or "0S")
    return text


class ClockAdvance(Schema):
    advance: str = Field(
        max_length=64,
        description="How far to move the clock forward: an ISO 8601 duration "
        "(weeks, days, hours, minutes, seconds), e.g. `PT26H` or `P3DT2H`.",
        examples=["PT26H"],
    )

    @field_validator("advance")
    @classmethod
    def _iso_duration(cls, value: str) -> str:
        parse_duration(value)
        return value


class ClockPublic(BaseModel):
    offset: str = Field(description="How far ahead of real time the clock runs (ISO 8601).")
    offset_seconds: int
    now: datetime = Field(description="The application's current instant.")


def _dev_clock(container: Container) -> OffsetClock:
    settings = container.settings
    clock = movable_clock(container)
    simulated = isinstance(container.gateway, SimulatedGateway)
    if settings.environment == "production" or not simulated or clock is None:
        raise ProblemError(404, "not_found", "no such endpoint")
    if (settings.api_workers or 1) > 1:  # each worker process has its own clock
        raise ProblemError(
            409, "clock_needs_one_worker", "the dev clock needs one API worker (--workers 1)"
        )
    return clock


def _public(offset: timedelta, now: datetime) -> ClockPublic:
    return ClockPublic(
        offset=format_duration(offset), offset_seconds=int(offset.total_seconds()), now=now
    )


@router.get("/dev/clock", response_model=ClockPublic)
def read_clock(container: ContainerDep) -> ClockPublic:
    """Simulated gateway only (absent in production): the application's clock, and how far
    ahead of real time it has been moved."""
    clock = _dev_clock(container)
    return _public(clock.offset, clock.now())


@router.post("/dev/clock", response_model=ClockPublic)
def advance_clock(
    body: ClockAdvance, command: CommandDep, request: Request, response: Response
) -> ClockPublic:
    """Simulated gateway only (absent in production): moves the application's clock forward
    by `advance` and runs at once what fell due in the skipped time — hold and request
    expiry, stay start and end, completion, payouts and deposit follow-ups. The clock never
    moves back (422). `X-Rentbook-Position` covers the events the due work recorded."""
    clock = _dev_clock(command.container)
    delta = parse_duration(body.advance)
    if delta <= timedelta():
        raise ProblemError(422, "clock_not_forward", "the clock only moves forward")
    if clock.offset + delta > MAX_ADVANCE:
        raise ProblemError(422, "clock_too_far", "the clock moves at most 3650 days ahead")
    with anonymous_context(request):  # the due work is the system's, as the scheduler's is
        state = advance(command.container, clock, delta)
    set_position(response, state.position)
    return _public(state.offset, state.now)
