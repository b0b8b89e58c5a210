"""Assembles the HTTP app: routers, problem handlers and middleware. Endpoints live with
their feature; this module only wires them."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from application.places import Places
from infrastructure import heap
from infrastructure.bootstrap import Container, build_container
from infrastructure.observability import configure_observability
from infrastructure.settings import Settings, get_settings
from interfaces.http import (
    admin,
    admin_audit,
    admin_jobs,
    admin_ledger,
    bookings,
    calendar_sync,
    conversations,
    coupons,
    dashboards,
    dev_clock,
    disputes,
    exports,
    health,
    idempotency,
    identity,
    listings,
    live,
    media,
    notifications,
    orders,
    payments,
    personal_data,
    places,
    profiles,
    reviews,
    search,
    stays,
    verification,
    wishlists,
)
from interfaces.http.boundary import RequestBoundaryMiddleware
from interfaces.http.idempotency import IdempotencyMiddleware
from interfaces.http.lean_routes import install_lean_routes
from interfaces.http.problems import install_problem_handlers
from interfaces.http.telemetry import observe_command
from interfaces.sse.stream import live_streams
from interfaces.web import install_web

API_PREFIX = "/api/v1"


def create_app(
    container: Container | None = None,
    settings: Settings | None = None,
    *,
    rate_limits: Mapping[str, tuple[int, int] | None] | None = None,
    min_position_timeout: float = 5.0,
    settle_heap: bool = False,
    lean_routes: bool = True,
) -> FastAPI:
    """The API. Without `container`, the lifespan builds one from `settings` (default: the
    environment), starts in-process workers when configured, and closes it at shutdown; a
    given container belongs to the caller, who starts and closes it. `settle_heap` is for a
    serving process: once started, its heap is hidden from the cycle collector
    (infrastructure/heap.py). Without `lean_routes` the caller installs them
    (`install_lean_routes`), as the tests do once the app borrows resolved route tables."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = container is None
        built = container or build_container(settings or get_settings())
        app.state.container = built
        idempotency.create_table(built.views)
        if own:
            configure_observability(built.settings)
        if own and built.settings.workers_in_process:
            built.start_workers()
        if own:
            built.start_stream_notices()
        if settle_heap:
            heap.settle_heap()
            if built.settings.places_preload:  # after the freeze: its garbage is not frozen
                preload_places(built.places)
        try:
            with live_streams(app):  # open SSE streams end when the server stops
                yield
        finally:
            if own:
                built.close()

    app = FastAPI(
        title="Rentbook",
        version="1",
        summary="Event-sourced rental marketplace: listings, calendars, bookings, payments.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(observe_command)],  # names each request's command; spans it
        # Our own spans and Prometheus metrics (interfaces/http/telemetry.py) replace
        # FastAPI's built-in OpenTelemetry: one server span per request, not two.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    if container is not None:  # usable before (or without) the lifespan running
        app.state.container = container
    app.state.rate_limits = dict(rate_limits or {})
    app.state.min_position_timeout = min_position_timeout
    install_problem_handlers(app)
    # Routes are matched one by one in this order (issue #9: each miss costs a few µs), so
    # the hot routers come first: identity (every session, `/users/me`), bookings, search;
    # no route of the routers they pass can match a path they serve
    # (tests/http/test_route_order.py, test_search_route_order.py), so no request changes route.
    for module in (identity, bookings, search, admin, admin_ledger, health, listings, payments):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(places.router, prefix=API_PREFIX)
    app.include_router(disputes.router, prefix=API_PREFIX)
    app.include_router(admin_jobs.router, prefix=API_PREFIX)
    app.include_router(media.router, prefix=API_PREFIX)
    app.include_router(reviews.router, prefix=API_PREFIX)
    app.include_router(stays.router, prefix=API_PREFIX)
    app.include_router(orders.router, prefix=API_PREFIX)
    app.include_router(dev_clock.router, prefix=API_PREFIX)
    app.include_router(verification.router, prefix=API_PREFIX)
    app.include_router(profiles.router, prefix=API_PREFIX)  # after identity's /users/me
    app.include_router(admin_audit.router, prefix=API_PREFIX)
    app.include_router(conversations.router, prefix=API_PREFIX)
    app.include_router(dashboards.router, prefix=API_PREFIX)
    app.include_router(exports.router, prefix=API_PREFIX)
    app.include_router(coupons.router, prefix=API_PREFIX)
    app.include_router(live.router, prefix=API_PREFIX)
    app.include_router(notifications.router, prefix=API_PREFIX)
    app.include_router(wishlists.router, prefix=API_PREFIX)
    app.include_router(calendar_sync.router, prefix=API_PREFIX)
    app.include_router(personal_data.router, prefix=API_PREFIX)
    app.include_router(health.router, include_in_schema=False)  # /health for probes
    install_web(app)  # the browser pages at /, after every API route
    if lean_routes:
        install_lean_routes(app)  # hot routes (bookings, /users/me, search) without FastAPI's work
    app.add_middleware(IdempotencyMiddleware)
    # Added last: outermost. Request id, last-resort 500, logs' ids, the server span, the
    # access line, request metrics, commands answering from what they saved.
    app.add_middleware(RequestBoundaryMiddleware)
    return app


def preload_places(places: Places) -> threading.Thread:
    """Builds the places index in a daemon thread: the first /places request of a serving
    worker took seconds (>10 s on a loaded machine) while it was built on demand. A request
    arriving meanwhile waits on the index's lock, as before, never for longer."""
    thread = threading.Thread(target=places.load, name="places-preload", daemon=True)
    thread.start()
    return thread
