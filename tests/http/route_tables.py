"""Fresh apps per test that skip rebuilding FastAPI's route tables.

FastAPI resolves each included router's routes (signatures, dependants, pydantic adapters)
lazily, per app, on the first request that walks past them: about half a second of CPU for
every test's new app, more than its container. Those tables depend only on the routers'
code, so one app per worker keeps them and each test's app borrows its included routers.
Everything else stays the test's own: state, lifespan, middleware, exception handlers, the
routes a test adds. Dependency overrides are read through the app that built the tables,
so it shares its (emptied) overrides dict with the borrowing app.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

_tables: list[FastAPI] = []  # the worker's table-holding app, made on first use


def _holder(app_factory: Callable[[], FastAPI]) -> FastAPI:
    if not _tables:
        _tables.append(app_factory())
    return _tables[0]


def _included(route: object) -> object | None:
    return getattr(route, "original_router", None)  # FastAPI's private _IncludedRouter


def borrow_route_tables(app: FastAPI, app_factory: Callable[[], FastAPI]) -> FastAPI:
    """`app` with the worker's resolved tables for its included routers; `app_factory()`
    makes an app of the same routers (any container: only its routes are used)."""
    holder = _holder(app_factory)
    mine, theirs = app.router.routes, holder.router.routes
    if len(mine) != len(theirs):  # a different app shape: keep its own tables
        return app
    for i, (own, shared) in enumerate(zip(mine, theirs, strict=True)):
        original = _included(own)
        if original is not None and original is _included(shared):
            mine[i] = shared
    holder.dependency_overrides.clear()  # none left over from an earlier test
    app.dependency_overrides = holder.dependency_overrides
    return app
