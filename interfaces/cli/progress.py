"""Rich progress bars over the event log's positions, on stderr."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True)


def _columns() -> tuple[ProgressColumn, ...]:
    return (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )


@contextmanager
def log_progress(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """Yields a callback taking the notification id reached."""
    with Progress(*_columns(), console=console, transient=True) as progress:
        task = progress.add_task(description, total=max(total, 1))
        yield lambda position: progress.update(task, completed=min(position, total))


@contextmanager
def head_progress(description: str, total: int) -> Iterator[Callable[[int, int], None]]:
    """Yields a callback taking (position reached, head): for work that follows a log that
    may still grow (a rebuild chases live writes), so the bar's end moves with the head."""
    with Progress(*_columns(), console=console, transient=True) as progress:
        task = progress.add_task(description, total=max(total, 1))

        def update(position: int, head: int) -> None:
            progress.update(task, completed=min(position, head), total=max(head, 1))

        yield update
