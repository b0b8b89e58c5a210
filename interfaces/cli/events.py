"""`rentbook events`: JSON Lines exports of the log for auditors, and their verification."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import typer
from eventsourcing.persistence import StoredEvent
from rich.console import Console

from application.store import EventStore
from infrastructure.event_export import Bounds, export_events, verify_export
from infrastructure.event_log import LoggedEvent, open_event_log
from infrastructure.eventstore import build_event_store
from infrastructure.settings import get_settings
from interfaces.cli.progress import log_progress

events = typer.Typer(help="Export and verify the event log.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)
BOUND_HELP = "A position (inclusive) or an RFC 3339 instant"


def _bound(value: str | None, option: str) -> int | datetime | None:
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("a position or an RFC 3339 instant", param_hint=option) from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def _bounds(frm: str | None, to: str | None) -> Bounds:
    start, stop = _bound(frm, "--from"), _bound(to, "--to")
    return Bounds(
        first=start if isinstance(start, int) else 1,
        last=stop if isinstance(stop, int) else None,
        since=start if isinstance(start, datetime) else None,
        until=stop if isinstance(stop, datetime) else None,
    )


def _recorded_at(store: EventStore) -> Callable[[LoggedEvent], datetime]:
    def at(row: LoggedEvent) -> datetime:
        stored = StoredEvent(row.stream_id, row.version, row.topic, row.state)
        instant: datetime = store.mapper.to_domain_event(stored).timestamp  # type: ignore[attr-defined]
        return instant if instant.tzinfo else instant.replace(tzinfo=UTC)

    return at


@events.command("export")
def export(
    frm: str | None = typer.Option(None, "--from", help=f"{BOUND_HELP} (inclusive)."),
    to: str | None = typer.Option(None, "--to", help=f"{BOUND_HELP} (instants: exclusive)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File (default stdout)."),
) -> None:
    """Streams the events within the bounds as JSON Lines, each with its hash and the hash
    it chains to, so `rentbook events verify-export` can re-check the file offline."""
    bounds = _bounds(frm, to)
    settings = get_settings()
    store = build_event_store(settings)
    out = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        with open_event_log(settings) as log, log_progress("exporting", log.position()) as seen:
            count = export_events(
                log, out, bounds, recorded_at=_recorded_at(store), on_progress=seen
            )
    finally:
        if output:
            out.close()
        store.close()
    console.print(f"exported {count} events")


@events.command("verify-export")
def verify_export_file(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
) -> None:
    """Re-hashes every line of an export and checks each stream's links; exits 1 naming
    the first line that breaks."""
    with file.open(encoding="utf-8", errors="replace") as lines:
        report = verify_export(lines)
    if report.broken is None:
        typer.echo(f"ok: {report.lines_checked} events verified")
        return
    b = report.broken
    where = f" (stream {b.stream_id} version {b.version}, notification id {b.notification_id})"
    typer.echo(f"BROKEN ({b.reason}) at line {b.line}{where if b.stream_id else ''}")
    raise typer.Exit(1)
