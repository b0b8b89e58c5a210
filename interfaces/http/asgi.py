"""The app factory each API worker process of `rentbook serve --workers N` imports
(`uvicorn interfaces.http.asgi:app --factory`): settings from the RENTBOOK_* environment,
never the background workers, which the supervising parent runs once for all. Each worker
takes its core first (RENTBOOK_PIN_CPUS), so every thread it starts runs there."""

from __future__ import annotations

from fastapi import FastAPI

from infrastructure.cpu_pinning import pin_this_worker
from infrastructure.settings import Settings
from interfaces.http.app import create_app


def app() -> FastAPI:
    settings = Settings(workers_in_process=False)
    pin_this_worker(settings.pin_cpus, settings.api_workers or 1)
    return create_app(settings=settings, settle_heap=True)
