"""Read-your-writes for search: `X-Rentbook-Min-Position` covers the search index too.

The search endpoint reads the search index (filled from the search documents view by the
index syncer, a moment after the view) and re-checks dates against the availability view.
It waits for both views, then for the index to have applied the position (for Meilisearch:
the task that carried it has succeeded), all within the one timeout, and answers 503
`search_index_behind` with `Retry-After` otherwise.
"""

from __future__ import annotations

import time

from fastapi import Header, Request

from interfaces.http.deps import ContainerDep
from interfaces.http.positions import DEFAULT_TIMEOUT, parse_position
from interfaces.http.problems import ProblemError

VIEWS = ("search_documents", "availability")


def wait_for_search_index(
    request: Request,
    container: ContainerDep,
    x_rentbook_min_position: str | None = Header(
        default=None,
        description="Wait until the search index and the views this endpoint reads include "
        "this position.",
    ),
) -> None:
    position = parse_position(x_rentbook_min_position)
    if not position:
        return
    timeout = float(getattr(request.app.state, "min_position_timeout", DEFAULT_TIMEOUT))
    deadline = time.monotonic() + timeout
    if not container.runner.wait_for(position, VIEWS, timeout):
        raise _behind("views_behind", f"the views have not reached position {position}", position)
    syncer = container.search_syncer
    if container.search is None or syncer is None:
        return  # no index: the endpoint answers 404 search_unavailable
    if not syncer.applied.wait_for(position, max(0.0, deadline - time.monotonic())):
        raise _behind(
            "search_index_behind",
            f"the search index has not reached position {position}",
            position,
        )


def _behind(code: str, detail: str, position: int) -> ProblemError:
    return ProblemError(
        503, code, f"{detail}; retry shortly", headers={"Retry-After": "1"}, position=position
    )
