"""The app factory each API worker process of `rentbook serve --workers N` imports
(`uvicorn interfaces.http.asgi:app --factory`): settings from the RENTBOOK_* environment,
never the background workers, which the supervising parent runs once for all."""

from __future__ import annotations

from fastapi import FastAPI

from infrastructure.settings import Settings
from interfaces.http.app import create_app


def app() -> FastAPI:
    return create_app(settings=Settings(workers_in_process=False), settle_heap=True)
