"""`rentbook audit`: re-hash the event log and seal checkpoints."""

from __future__ import annotations

import typer
from rich.console import Console

from infrastructure.audit_log import seal_checkpoint, verify_log
from infrastructure.event_log import open_event_log
from infrastructure.eventstore import build_event_store
from infrastructure.settings import get_settings
from interfaces.cli.progress import log_progress

audit = typer.Typer(help="Tamper evidence of the event log.", no_args_is_help=True)
console = Console(soft_wrap=True)


@audit.command()
def verify() -> None:
    """Re-hashes every event and checkpoint; exits 1 naming the first broken link (stream,
    version and notification id)."""
    settings = get_settings()
    build_event_store(settings).close()  # the tables exist even on an empty store
    with open_event_log(settings) as log, log_progress("verifying", log.position()) as progress:
        report = verify_log(log, on_progress=progress)
    if report.broken is None:
        console.print(
            f"ok: {report.events_checked} events and {report.checkpoints_checked} "
            f"checkpoints verified up to position {report.log_position}"
        )
        return
    b = report.broken
    where = f"checkpoint {b.checkpoint_id}" if b.checkpoint_id else f"stream {b.stream_id}"
    version = f" version {b.version}" if b.version is not None else ""
    console.print(
        f"BROKEN ({b.reason}) at {where}{version}, notification id {b.notification_id}; "
        f"{report.events_checked} events verified before it"
    )
    raise typer.Exit(1)


@audit.command()
def checkpoint(
    min_events: int = typer.Option(1, min=1, help="Seal only when this many events are new."),
) -> None:
    """Seals a global checkpoint over the events recorded since the last one."""
    settings = get_settings()
    build_event_store(settings).close()
    with open_event_log(settings) as log:
        sealed = seal_checkpoint(log, min_events=min_events)
    if sealed is None:
        console.print("nothing to seal")
    else:
        console.print(
            f"checkpoint {sealed.checkpoint_id}: {sealed.event_count} events up to "
            f"{sealed.last_notification_id}, {sealed.hash.hex()}"
        )
