"""`rentbook serve`: the HTTP API, one worker per core on PostgreSQL + Redis, the background
workers exactly once (see `interfaces/cli/serve_plan.py`)."""

from __future__ import annotations

import os
import threading

import typer
import uvicorn
from rich.console import Console

from application.demo import DEMO_PASSWORD, seed_demo
from infrastructure.audit_log import start_checkpoints
from infrastructure.bootstrap import Container, build_container
from infrastructure.cpu_pinning import CpuListError, pin_this_worker, plan_cpus, usable_cpus
from infrastructure.demo_images import draw_demo_photo
from infrastructure.event_log import open_event_log
from infrastructure.settings import get_settings
from interfaces.cli.serve_plan import plan_serve
from interfaces.http.coalesced_writes import UVICORN_HTTP

console = Console(stderr=True)
FACTORY = "interfaces.http.asgi:app"
HEALTHCHECK_SECONDS = 60


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        help="API worker processes (default RENTBOOK_API_WORKERS, else one per core); "
        "one on SQLite or without Redis.",
    ),
    background: bool | None = typer.Option(
        None,
        "--background/--no-background",
        help="Run projections, the scheduler, the search syncer and the ledger here "
        "(default RENTBOOK_WORKERS_IN_PROCESS); off when `rentbook project` and "
        "`rentbook scheduler` run them.",
    ),
    no_workers: bool = typer.Option(
        False, "--no-workers", hidden=True, help="Old spelling of --no-background."
    ),
    pin_cpus: str | None = typer.Option(
        None,
        "--pin-cpus",
        help="Cores of the API workers: auto (worker i on core i; one worker on one core), "
        "off, or a list like 0,1 or 2-3 (default RENTBOOK_PIN_CPUS). Background workers "
        "stay unpinned.",
    ),
    seed: bool = typer.Option(True, help="Seed demo data when the event store is empty."),
    demo_listings: int = typer.Option(30, help="How many demo listings to seed."),
) -> None:
    """Runs the HTTP API: one worker per core on PostgreSQL with Redis (one on the embedded
    default), and the background workers once (in the parent with several API workers)."""
    settings = get_settings()
    if no_workers:
        background = False
    if background is not None:
        settings.workers_in_process = background
    try:
        cpus = plan_cpus(pin_cpus or settings.pin_cpus, usable_cpus())
    except CpuListError as error:
        raise typer.BadParameter(str(error), param_hint="--pin-cpus") from None
    plan = plan_serve(settings, workers, settings.workers_in_process, os.cpu_count())
    for note in plan.notes:
        console.print(note, soft_wrap=True)
    settings.pin_cpus = (pin_cpus or settings.pin_cpus).strip().lower()
    console.print(
        f"rentbook serve: {plan.describe()}; {cpus.describe(plan.api_workers)}", soft_wrap=True
    )
    settings.api_workers = plan.api_workers
    container = build_container(settings)
    if seed and container.store.current_position() == 0:
        _seed(container, demo_listings)
    if plan.background != "off":
        container.start_workers()
        start_seals(container)
    try:
        if plan.api_workers == 1:
            from interfaces.http.app import create_app

            # After the background workers started: they keep every core.
            pin_this_worker(settings.pin_cpus, 1, group=os.getpid(), every_thread=False)
            # The app borrows this container, so it starts nothing of the container's own:
            # the one API worker hears other processes' writes (job workers, `rentbook
            # project`) here, or each would cost its placements a conflict.
            container.start_stream_notices()
            uvicorn.run(
                create_app(container, settle_heap=True),
                host=host,
                port=port,
                log_level="info",
                log_config=None,
                access_log=False,  # the app writes its own access line (http/boundary.py)
                http=UVICORN_HTTP,  # each response leaves in one `send` (issue #9)
            )
        else:
            # The spawned workers read their settings from the environment.
            os.environ["RENTBOOK_API_WORKERS"] = str(plan.api_workers)
            os.environ["RENTBOOK_PIN_CPUS"] = settings.pin_cpus
            uvicorn.run(
                FACTORY,
                factory=True,
                host=host,
                port=port,
                workers=plan.api_workers,
                log_level="info",
                log_config=None,  # uvicorn's lines go through our structured logging
                access_log=False,  # but not its access line: the app writes its own
                http=UVICORN_HTTP,
                # A spawned worker imports the whole app before it answers the parent's
                # ping; on a loaded machine that takes longer than uvicorn's 5 s.
                timeout_worker_healthcheck=HEALTHCHECK_SECONDS,
            )
    finally:
        container.close()


def _seed(container: Container, listings: int) -> None:
    summary = seed_demo(
        container.identity,
        container.listings,
        container.bookings,
        count=listings,
        at=container.clock.now(),
        places=container.places,
        media=container.media,
        draw=draw_demo_photo,
    )
    console.print(
        f"Seeded {summary.listings} listings and {summary.bookings} bookings; "
        f"admin {summary.admin_email} / {DEMO_PASSWORD}",
        soft_wrap=True,
    )


def start_seals(container: Container) -> None:
    """Seals the log's new events into a global checkpoint now and then (a daemon thread:
    an interrupted seal leaves nothing half-written, the insert is one statement)."""
    settings = container.settings
    start_checkpoints(
        lambda: open_event_log(settings), threading.Event(), settings.audit_checkpoint_seconds
    )
