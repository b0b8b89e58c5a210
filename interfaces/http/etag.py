"""Optimistic concurrency over HTTP: `ETag: "<version>"` out, `If-Match` in.

    @router.patch("/things/{thing_id}")
    def update_thing(..., if_match: IfMatchDep, response: Response) -> ThingPublic:
        position = things.update(..., expected_version=if_match)   # None: unconditional
        set_etag(response, thing.version)

Use cases raise `ConflictError("version_mismatch")` when the version moved, which problems.py
answers with 412; `check_version` does the same for routes that compare themselves.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Response

from interfaces.http.problems import ProblemError

_ETAG = re.compile(r'^(?:W/)?"(\d{1,18})"$')


def etag_value(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag_value(version)


def parse_if_match(raw: str | None) -> int | None:
    """The version an `If-Match` names; None when absent or `*`. A value that cannot be one
    of our ETags can never match: 412."""
    if raw is None or not raw.strip() or raw.strip() == "*":
        return None
    found = _ETAG.match(raw.strip())
    if found is None:
        raise ProblemError(412, "precondition_failed", "If-Match does not name a version")
    return int(found.group(1))


async def get_if_match(
    if_match: str | None = Header(
        default=None, description='The ETag (`"<version>"`) the change is based on.'
    ),
) -> int | None:
    return parse_if_match(if_match)


IfMatchDep = Annotated[int | None, Depends(get_if_match)]


def check_version(expected: int | None, current: int) -> None:
    if expected is not None and expected != current:
        raise ProblemError(
            412,
            "version_mismatch",
            f"the resource is at version {current}",
            headers={"ETag": etag_value(current)},
        )
