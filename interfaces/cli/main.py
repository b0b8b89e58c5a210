"""The `rentbook` command: serve the API, run workers, manage users, seed demo data."""

from __future__ import annotations

import sys
import threading
import time

import typer
from rich.console import Console

from application.demo import seed_demo
from infrastructure.bootstrap import Container, build_container
from infrastructure.demo_images import draw_demo_photo
from infrastructure.observability import configure_observability
from infrastructure.settings import get_settings
from interfaces.cli.admin import admin
from interfaces.cli.audit import audit
from interfaces.cli.db import db
from interfaces.cli.events import events
from interfaces.cli.project import project
from interfaces.cli.serve import serve

app = typer.Typer(
    help="Rentbook: an event-sourced rental marketplace engine.", no_args_is_help=True
)
users = typer.Typer(help="Manage users.", no_args_is_help=True)
app.add_typer(users, name="users")
app.add_typer(db, name="db")
app.add_typer(audit, name="audit")
app.add_typer(events, name="events")
app.add_typer(admin, name="admin")
app.command()(serve)
app.command()(project)
console = Console(stderr=True)


@app.callback()
def _observability() -> None:
    """Structured logs (and traces when an OTLP endpoint is set) for every command."""
    try:
        settings = get_settings()
    except ValueError:  # the command reports bad settings itself, where it reads them
        return
    configure_observability(settings)


def _container() -> Container:
    return build_container(get_settings())


@app.command()
def scheduler(interval: float = typer.Option(2.0, help="Seconds between deadline scans.")) -> None:
    """Issues due deadline commands (expiry, start, end, inspection) idempotently."""
    container = _container()
    stop = threading.Event()
    console.print("scheduler running; Ctrl-C to stop")
    container.start_notifications(interval)  # queues notification mail for the workers
    try:
        container.scheduler.run_forever(container.clock, stop, interval)
    except KeyboardInterrupt:
        stop.set()
    finally:
        container.close()


@app.command()
def worker(
    burst: bool = typer.Option(False, help="Run the queued jobs, then exit."),
) -> None:
    """Runs jobs (processor calls, notification mail) from the rq queue on Redis."""
    from infrastructure.jobs_rq import RqJobQueue

    container = _container()
    jobs = container.payments.jobs
    if not isinstance(jobs, RqJobQueue):
        console.print("no rq queue: set RENTBOOK_REDIS_URL (jobs run in-process otherwise)")
        raise typer.Exit(1)
    console.print("worker running; Ctrl-C to stop")
    try:
        jobs.work(burst=burst)
    finally:
        container.close()


@app.command("demo-data")
def demo_data(
    listings: int = typer.Option(30, help="How many listings to create (100000 is fine)."),
    bookings: int | None = typer.Option(
        None, help="At most this many bookings (default 300 + N/50)."
    ),
) -> None:
    """Creates demo users, listings of every category in real cities worldwide with local
    prices, and bookings, through the same commands as users (events, views and the search
    index are all real). Run `rentbook project` (or `serve`) to fill the views and index."""
    container = _container()
    try:
        started = time.perf_counter()
        summary = seed_demo(
            container.identity,
            container.listings,
            container.bookings,
            count=listings,
            at=container.clock.now(),
            places=container.places,
            max_bookings=bookings,
            media=container.media,
            draw=draw_demo_photo,
        )
        console.print(f"{summary} in {time.perf_counter() - started:.1f} s")
    finally:
        container.close()


@users.command("create-admin")
def create_admin(
    email: str,
    name: str = typer.Option("Admin", help="Display name."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password."),
) -> None:
    """Creates an admin, or promotes an existing user to admin."""
    if not password_stdin:
        console.print("pass --password-stdin and the password on standard input")
        raise typer.Exit(2)
    password = sys.stdin.readline().rstrip("\n")
    container = _container()
    try:
        user_id, _, created = container.identity.create_admin(
            email, password, name, at=container.clock.now()
        )
        console.print(f"{'created' if created else 'promoted'} admin {user_id}")
    finally:
        container.close()


if __name__ == "__main__":
    app()
