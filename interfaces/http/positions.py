"""Read-your-writes: commands tell their position, queries can wait for it.

A command answers `X-Rentbook-Position: <int>`, the event-store position of the last event it
recorded (0 when it recorded nothing). A GET declaring `min_position("bookings", ...)` honours
`X-Rentbook-Min-Position`: it waits until those projections have processed that position, up
to `app.state.min_position_timeout` seconds (5), and answers 503 with `Retry-After` otherwise.

    @router.get("/bookings/{booking_id}", dependencies=[Depends(min_position("bookings"))])
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Header, Request, Response

from interfaces.http.deps import ContainerDep
from interfaces.http.problems import ProblemError

POSITION_HEADER = "X-Rentbook-Position"
MIN_POSITION_HEADER = "X-Rentbook-Min-Position"
DEFAULT_TIMEOUT = 5.0
MAX_POSITION = 2**63 - 1


def set_position(response: Response, position: int) -> None:
    """Call once per command with the position its use case returned."""
    response.headers[POSITION_HEADER] = str(max(0, int(position)))


def parse_position(raw: str | None) -> int | None:
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_POSITION:
        raise ProblemError(
            422, "invalid_min_position", f"{MIN_POSITION_HEADER} must be a non-negative integer"
        )
    return int(raw)


def min_position(*view_names: str) -> Callable[..., None]:
    """A dependency waiting for `view_names` (the projections the route reads; none = all)
    to reach the client's `X-Rentbook-Min-Position`."""

    def wait_for_views(
        request: Request,
        container: ContainerDep,
        x_rentbook_min_position: str | None = Header(
            default=None,
            description="Wait until the views this endpoint reads include this position.",
        ),
    ) -> None:
        position = parse_position(x_rentbook_min_position)
        if not position:
            return
        timeout = float(getattr(request.app.state, "min_position_timeout", DEFAULT_TIMEOUT))
        names = list(view_names) or None
        if not container.runner.wait_for(position, names, timeout):
            raise ProblemError(
                503,
                "views_behind",
                f"the views have not reached position {position} yet; retry shortly",
                headers={"Retry-After": "1"},
                position=position,
            )

    return wait_for_views
