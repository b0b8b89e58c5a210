"""The web app: server-rendered pages for renters, owners and admins on the same use cases
as the API, with htmx, Leaflet and hand-written CSS served from `static/` (no CDN)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from interfaces.web import (
    account,
    admin,
    admin_disputes,
    admin_ops,
    admin_reports,
    host,
    host_calendar_sync,
    host_coupons,
    host_dashboard,
    host_edit,
    messages,
    notifications,
    profiles,
    public,
    stays,
    trip_disputes,
    trips,
    trips_checkout,
    wishlists,
)
from interfaces.web.templating import HERE


def install_web(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="web-static")
    for module in (public, account, trips, host, admin, messages, notifications, wishlists, stays):
        app.include_router(module.router)
    for module in (host_dashboard, host_coupons, host_calendar_sync):
        app.include_router(module.router)
    for module in (admin_disputes, admin_ops, admin_reports):
        app.include_router(module.router)
    app.include_router(trips_checkout.router)
    app.include_router(host_edit.router)
    app.include_router(trip_disputes.router)
    app.include_router(profiles.router)
