"""How `rentbook serve` runs: how many API worker processes, and where the background
workers (projections, scheduler, search syncer, ledger, payments scheduler) run.

Several API workers need every piece of per-request state shared between processes:
PostgreSQL for events and views, Redis for sessions, rate limits and jobs. Otherwise (the
embedded SQLite default, or no Redis) one worker serves, and the plan says why. The
background workers run exactly once: in the serving process with one worker, in the
supervising parent with several (uvicorn spawns the API workers, so the parent's threads
are never copied into them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from infrastructure.settings import Settings

Background = Literal["off", "in-process", "parent"]


@dataclass(frozen=True)
class ServePlan:
    api_workers: int
    background: Background
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        where = {
            "off": "background workers off (run `rentbook project` and `rentbook scheduler`)",
            "in-process": "background workers in the same process",
            "parent": "background workers once, in the parent process",
        }[self.background]
        plural = "s" if self.api_workers != 1 else ""
        return f"{self.api_workers} API worker{plural}; {where}"


def plan_serve(
    settings: Settings, requested: int | None, background: bool, cpus: int | None
) -> ServePlan:
    """`requested` workers (else `settings.api_workers`, else one per core), reduced to one
    where state would not be shared between processes."""
    wanted = max(1, requested or settings.api_workers or cpus or 1)
    notes: list[str] = []
    single = _single_worker_reason(settings)
    if wanted > 1 and single:
        notes.append(f"serving with one API worker, not {wanted}: {single}")
        wanted = 1
    if wanted > 1 and _dev_clock_available(settings):
        notes.append("POST /dev/clock answers 409 with several API workers (use --workers 1)")
    where: Background = "off" if not background else "in-process" if wanted == 1 else "parent"
    return ServePlan(wanted, where, tuple(notes))


def _single_worker_reason(settings: Settings) -> str | None:
    if not settings.uses_postgres:
        return (
            "the embedded SQLite store serialises writers, and sessions, rate limits and "
            "jobs live in the process (set RENTBOOK_DATABASE_URL and RENTBOOK_REDIS_URL)"
        )
    if not settings.redis_url:
        return "sessions and rate limits live in the process without RENTBOOK_REDIS_URL"
    if settings.jobs_backend == "inprocess":
        return "RENTBOOK_JOBS_BACKEND=inprocess keeps the job queue in the process"
    return None


def _dev_clock_available(settings: Settings) -> bool:
    return settings.environment != "production" and settings.payment_gateway == "simulated"
