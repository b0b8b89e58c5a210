"""Rate limits as route dependencies, over the container's `RateLimiter` (GCRA).

    @router.post("/auth/login", dependencies=[Depends(rate_limit("auth.login", 10, 60))])

The key is the user when the request carries a valid session, else the client IP. Limits
are defaults: `create_app(rate_limits={"auth.login": (1000, 60)})` overrides a bucket and
`rate_limits={"*": None}` (or a bucket mapped to None) switches limits off.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fastapi import Request

from interfaces.http.deps import ContainerDep, get_optional_principal
from interfaces.http.problems import ProblemError

# Defaults of the buckets the identity router uses; others pick their own.
AUTH_LOGIN = ("auth.login", 10, 60)
AUTH_REGISTER = ("auth.register", 5, 60)

Overrides = Mapping[str, tuple[int, int] | None]


def client_ip(request: Request) -> str:
    """The peer address (run uvicorn with --proxy-headers behind a trusted proxy)."""
    return request.client.host if request.client else "unknown"


def effective_limit(
    request: Request, bucket: str, default: tuple[int, int]
) -> tuple[int, int] | None:
    overrides: Overrides = getattr(request.app.state, "rate_limits", None) or {}
    if bucket in overrides:
        return overrides[bucket]
    if "*" in overrides:
        return overrides["*"]
    return default


def rate_limit(bucket: str, limit: int, window_seconds: int) -> Callable[..., None]:
    """A dependency allowing `limit` requests per `window_seconds` per user (or IP)."""

    def check_rate_limit(request: Request, container: ContainerDep) -> None:
        chosen = effective_limit(request, bucket, (limit, window_seconds))
        if chosen is None:
            return
        principal = get_optional_principal(request, container)
        who = f"user:{principal.user_id}" if principal else f"ip:{client_ip(request)}"
        decision = container.rate_limiter.hit(f"rl:{bucket}:{who}", *chosen)
        if not decision.allowed:
            raise ProblemError(
                429,
                "rate_limited",
                f"too many requests; retry in {decision.retry_after} s",
                headers={"Retry-After": str(decision.retry_after)},
                retry_after=decision.retry_after,
            )

    return check_rate_limit
