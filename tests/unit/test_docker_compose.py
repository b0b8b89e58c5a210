"""Every `rentbook` command in docker-compose.yml and the Dockerfile exists with the options
it is given (an unknown command or option would stop the container at start)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer._click.exceptions import UsageError  # typer vendors click

from interfaces.cli.main import app

ROOT = Path(__file__).resolve().parents[2]


def _compose_commands() -> dict[str, list[str]]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return {
        name: service["command"]
        for name, service in compose["services"].items()
        if service.get("command") and service["command"][0] == "rentbook"
    }


def _dockerfile_command() -> list[str]:
    text = (ROOT / "Dockerfile").read_text()
    match = re.search(r"^CMD (\[.*\])$", text, re.MULTILINE)
    assert match is not None
    command: list[str] = json.loads(match.group(1))
    return command


def _parse(argv: list[str]) -> None:
    """Resolves the command and parses its options as click would at start, without
    running it."""
    command: Any = typer.main.get_command(app)
    ctx = command.context_class(command, info_name="rentbook")
    args = list(argv[1:])
    while hasattr(command, "list_commands"):  # a group: descend into the subcommand
        name, args = args[0], args[1:]
        command = command.get_command(ctx, name)
        if command is None:
            raise UsageError(f"no such command {name!r}")
        ctx = command.context_class(command, info_name=name, parent=ctx)
    command.make_context(ctx.info_name, args, parent=ctx.parent)  # parses its options


def test_the_compose_file_runs_the_api_projector_scheduler_and_migrations() -> None:
    assert set(_compose_commands()) >= {"api", "projector", "scheduler", "migrate"}


def test_the_compose_file_runs_an_rq_worker_and_a_mailpit_for_staging_mail() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert _compose_commands()["worker"] == ["rentbook", "worker"]
    assert compose["services"]["mailpit"]["image"].startswith("axllent/mailpit")
    assert compose["services"]["worker"]["environment"]["RENTBOOK_SMTP_HOST"].endswith("mailpit}")


@pytest.mark.parametrize("service", sorted(_compose_commands()))
def test_every_compose_command_exists(service: str) -> None:
    _parse(_compose_commands()[service])


def test_the_dockerfile_command_exists() -> None:
    _parse(_dockerfile_command())


def test_the_compose_api_leaves_the_background_workers_to_their_own_services() -> None:
    api = _compose_commands()["api"]
    assert "--no-background" in api
    assert "--workers" not in api  # one per core by default (RENTBOOK_API_WORKERS)


def test_an_unknown_option_is_caught() -> None:
    with pytest.raises(UsageError):
        _parse(["rentbook", "serve", "--no-such-option"])
    with pytest.raises(UsageError):
        _parse(["rentbook", "no-such-command"])
