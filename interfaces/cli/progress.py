"""A rich progress bar over the event log's positions, on stderr."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

console = Console(stderr=True)


@contextmanager
def log_progress(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """Yields a callback taking the notification id reached."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=max(total, 1))
        yield lambda position: progress.update(task, completed=min(position, total))
