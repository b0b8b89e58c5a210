"""`rentbook admin`: the admin API's history, time travel, projections and ledger checks,
for operators at a shell (JSON on stdout, progress on stderr)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from application.ledger import LedgerProcess, verify_process
from application.time_travel import state_at, utc
from domain.errors import NotFoundError
from domain.event_meta import event_meta
from infrastructure.bootstrap import build_container
from infrastructure.eventstore import build_event_store, views_url
from infrastructure.ledger_rows import event_rows
from infrastructure.master_keys import MasterKeyError, master_keys, new_master_key
from infrastructure.personal_key_table import keys_by_master_key, prepare, rewrap
from infrastructure.settings import get_settings
from infrastructure.views_db import create_views_engine
from interfaces.cli.progress import head_progress
from interfaces.http.admin import jsonable

admin = typer.Typer(help="Admin tools mirroring /api/v1/admin.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)
_ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "_meta"})


def _echo(value: Any) -> None:
    typer.echo(json.dumps(jsonable(value), sort_keys=True))


def _missing(message: str) -> typer.Exit:
    console.print(message)
    return typer.Exit(1)


@admin.command()
def history(
    stream_id: UUID,
    from_version: int = typer.Option(1, min=1, help="First version to show."),
) -> None:
    """Every event of one stream from `--from-version`, one JSON object a line, with who,
    when and why (secrets redacted)."""
    store = build_event_store(get_settings())
    try:
        shown = 0
        for event in store.events.get(stream_id, gt=from_version - 1):
            meta = event_meta(event)
            payload = {k: v for k, v in vars(event).items() if k not in _ENVELOPE}
            _echo(
                {
                    "version": event.originator_version,
                    "type": type(event).__qualname__,
                    "recorded_at": utc(event.timestamp),  # type: ignore[attr-defined]
                    **{k: meta.get(k) or None for k in ("actor_id", "actor_role")},
                    **{k: meta.get(k) or None for k in ("correlation_id", "causation_id")},
                    "payload": payload,
                }
            )
            shown += 1
        if not shown and not store.exists(stream_id):
            raise _missing(f"no stream {stream_id}")
    finally:
        store.close()


@admin.command()
def state(
    stream_id: UUID,
    version: int | None = typer.Option(None, min=1, help="The state after this version."),
    at: datetime | None = typer.Option(None, help="The state as of this instant (UTC)."),
) -> None:
    """The aggregate as it was at `--version` or `--at`, or now, as JSON."""
    store = build_event_store(get_settings())
    try:
        try:
            aggregate: Any = state_at(store, stream_id, version=version, at=at)
        except NotFoundError as missing:
            raise _missing(missing.detail) from None
        fields = {k: v for k, v in vars(aggregate).items() if not k.startswith("_")}
        _echo({"type": type(aggregate).__qualname__, "version": aggregate.version, **fields})
    finally:
        store.close()


@admin.command()
def projections() -> None:
    """Each projection's position, lag and status."""
    container = build_container(get_settings())
    try:
        rows = container.runner.status()
    finally:
        container.close()
    table = Table("name", "position", "lag (events)", "lag (s)", "status")
    for row in rows:
        table.add_row(
            row["name"],
            str(row["position"]),
            str(row["lag_events"]),
            f"{row['lag_seconds']:.1f}",
            row["status"],
        )
    Console(soft_wrap=True, width=200).print(table)


@admin.command()
def rebuild(name: str) -> None:
    """Rebuilds one projection from the start of the log into fresh tables and swaps them
    in while the live one keeps serving."""
    container = build_container(get_settings())
    try:
        names = [row["name"] for row in container.runner.status()]
        if name not in names:
            console.print(f"no projection {name!r}; one of: {', '.join(names)}")
            raise typer.Exit(2)
        head = container.store.current_position()
        with head_progress(f"rebuilding {name}", head) as progress:
            position = container.runner.rebuild(name, progress)
    finally:
        container.close()
    typer.echo(f"rebuilt {name} up to position {position}")


@admin.command("ledger-verify")
def ledger_verify() -> None:
    """Regenerates the ledger from payment events and compares it with the recorded one up
    to the ledger's own position (a ledger merely behind reports its `lag`); exits 1 when
    it is unbalanced or differs."""
    store = build_event_store(get_settings())
    try:
        head = store.current_position()
        with head_progress("verifying the ledger", head) as progress:
            process = LedgerProcess(store)
            report = verify_process(process, rows=event_rows(store), progress=progress)
    finally:
        store.close()
    _echo(report.as_dict())
    if not (report.balanced and report.derived_matches_recorded):
        raise typer.Exit(1)


@admin.command("rewrap-keys")
def rewrap_keys() -> None:
    """Rewraps every personal data key with the first of RENTBOOK_MASTER_KEYS (and wraps
    those still in the clear), alongside the running service; prints how many keys each
    master key then wraps: once the old one wraps none, drop it from the ring."""
    settings = get_settings()
    engine = create_views_engine(views_url(settings), pool_size=1)
    try:
        master = master_keys(settings)
        prepare(engine, master)
        done = rewrap(engine, master)
        counts = keys_by_master_key(engine)
        _echo({"rewrapped": done, "master_key": master.current, "keys_by_master_key": counts})
    except MasterKeyError as error:
        console.print(str(error))
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


@admin.command("new-master-key")
def new_master_key_command(key_id: str = typer.Argument("k1", help="The new key's id.")) -> None:
    """Prints a fresh master key as `id:base64`, to prepend to RENTBOOK_MASTER_KEYS."""
    typer.echo(f"{key_id}:{new_master_key()}")
