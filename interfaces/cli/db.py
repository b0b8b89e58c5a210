"""`rentbook db`: create the event store as the owner role and grant the application role."""

from __future__ import annotations

import psycopg
import typer
from rich.console import Console

from infrastructure import db_roles
from infrastructure.settings import get_settings

db = typer.Typer(help="Database roles and migrations.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)


@db.command()
def migrate() -> None:
    """Creates the event store's tables, hash trigger and checkpoint table as the owner
    (RENTBOOK_MIGRATION_DATABASE_URL, else RENTBOOK_DATABASE_URL) and grants the
    application role INSERT and SELECT on them, nothing more."""
    role = db_roles.migrate(get_settings())
    if role:
        console.print(f"event store migrated; {role} may insert and select events only")
    else:
        console.print("event store migrated (one role: no separate owner configured)")


@db.command()
def grant() -> None:
    """Re-applies the application role's rights on an already migrated event store."""
    settings = get_settings()
    try:
        db_roles.grant(settings)
    except ValueError as error:
        console.print(str(error))
        raise typer.Exit(2) from None
    except psycopg.Error as error:  # e.g. not migrated yet, or not the owner
        console.print(f"grant failed: {error}")
        raise typer.Exit(1) from None
    console.print(f"granted {db_roles.role_of(settings.database_url or '')} append-only rights")
