"""`rentbook project`: the projection workers, their views split across processes.

One process catches up all views at ~10k log events/s on one core. With `--processes N`
the parent runs its share of the views and supervises N-1 children (`rentbook project
--views ... --no-singletons`), each owning a disjoint share by measured cost
(`projections/partition.py`). Every view tracks its own position in the same transaction
as its rows, so each process keeps the one-process crash safety; a child that dies is
started again and resumes from its views' positions. The singletons (search sync, ledger
and coupon processes, seals) run once, in the parent.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import typer
from rich.console import Console

from infrastructure.bootstrap import Container, build_container
from infrastructure.settings import Settings, get_settings
from interfaces.cli.serve import start_seals
from projections.partition import load, partition, topics_of
from projections.registry import all_projections

console = Console(stderr=True)
log = logging.getLogger(__name__)
# Default processes on PostgreSQL: one per usable core, at most this many. Past two the
# machine's PostgreSQL (40% of the catch-up's CPU) and the API want the cores, and each
# process reads and decodes the log for its views again.
DEFAULT_MAX_PROCESSES = 2
RESTART_BACKOFF_MAX = 30.0
HEALTHY_SECONDS = 60.0  # a child that ran this long restarts after the shortest backoff


def plan_processes(
    settings: Settings, requested: int | None, subset: bool, cpus: int
) -> tuple[int, list[str]]:
    """How many processes to run, and why fewer than asked when so (the default per core
    is no asking: the supervisor's children are `--views` with it)."""
    asked = requested or settings.projection_processes
    wanted = max(1, asked or min(cpus, DEFAULT_MAX_PROCESSES))
    why = ""
    if wanted > 1 and subset:
        why = "--views runs exactly the views it names"
    elif wanted > 1 and not settings.uses_postgres:
        why = "the embedded SQLite views serialise writers"
    if not why:
        return wanted, []
    return 1, [f"one process, not {wanted}: {why}"] if asked else []


def project(
    processes: int | None = typer.Option(
        None,
        "--processes",
        min=1,
        help="Processes to split the views across (default RENTBOOK_PROJECTION_PROCESSES, "
        f"else one per core up to {DEFAULT_MAX_PROCESSES}); one on SQLite.",
    ),
    views: str | None = typer.Option(
        None, "--views", help="Comma list: run only these views (another process runs the rest)."
    ),
    singletons: bool | None = typer.Option(
        None,
        "--singletons/--no-singletons",
        help="Run the search sync, ledger and coupon processes and seals here (default: "
        "unless --views is given).",
    ),
    supervised: bool = typer.Option(
        False, "--supervised", hidden=True, help="A child: exit when the parent's pipe closes."
    ),
) -> None:
    """Runs the projection workers (catch up, then follow), keeps the search index in step
    and runs the ledger and coupon processes, until interrupted."""
    settings = get_settings()
    views_topics = topics_of(all_projections())
    names = list(views_topics)
    subset = [v.strip() for v in views.split(",") if v.strip()] if views is not None else None
    unknown = sorted(set(subset or []) - set(names))
    if unknown:
        console.print(f"no such view: {', '.join(unknown)} (views: {', '.join(names)})")
        raise typer.Exit(2)
    count, notes = plan_processes(settings, processes, subset is not None, _cpus())
    for note in notes:
        console.print(note, soft_wrap=True)
    chosen = {name: views_topics[name] for name in subset or names}
    parts = partition(chosen, count)
    run_singletons = subset is None if singletons is None else singletons
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # what `docker compose stop` sends
    if supervised:
        threading.Thread(target=_until_parent_gone, args=(stop,), daemon=True).start()
    container = build_container(settings)  # creates missing views before children start
    children = Children(parts[1:])
    try:
        if stop.is_set():  # told to stop while the container was built: start nothing
            return
        container.runner.own(parts[0])
        children.start()
        container.runner.start()
        if run_singletons:
            start_singletons(container)
        console.print(_describe(chosen, parts, run_singletons), soft_wrap=True)
        while not stop.wait(1.0):
            children.restart_exited()
    except KeyboardInterrupt:
        pass
    finally:
        children.stop()
        container.close()


def start_singletons(container: Container) -> None:
    """What must run once however many projection processes there are."""
    container.start_search_sync()
    container.start_ledger()
    container.start_coupon_process()
    start_seals(container)


class Children:
    """The other processes' shares of the views: started, restarted when they exit, and
    stopped with the parent (and by themselves when it dies: their stdin closes)."""

    def __init__(self, parts: list[list[str]], clock: Callable[[], float] = time.monotonic) -> None:
        self.parts = [part for part in parts if part]
        self.clock = clock
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * len(self.parts)
        self._failures = [0] * len(self.parts)
        self._due = [0.0] * len(self.parts)
        self._started = [0.0] * len(self.parts)

    def start(self) -> None:
        for i in range(len(self.parts)):
            self._spawn(i)

    def _spawn(self, i: int) -> None:
        command = [sys.executable, "-m", "interfaces.cli.main", "project", "--views"]
        command += [",".join(self.parts[i]), "--no-singletons", "--supervised"]
        self.procs[i] = subprocess.Popen(command, stdin=subprocess.PIPE)
        self._started[i] = self.clock()

    def restart_exited(self) -> None:
        now = self.clock()
        for i, proc in enumerate(self.procs):
            if proc is None or proc.poll() is None or now < self._due[i]:
                continue
            if not self._due[i]:  # first sight of the exit: wait out the backoff
                if now - self._started[i] > HEALTHY_SECONDS:
                    self._failures[i] = 0  # a long run ended: not a crash loop
                self._failures[i] += 1
                backoff = min(RESTART_BACKOFF_MAX, 2.0 ** (self._failures[i] - 1))
                self._due[i] = now + backoff
                log.warning(
                    "projection process for %s exited with %s; restarting in %.0f s",
                    ",".join(self.parts[i]),
                    proc.returncode,
                    backoff,
                )
                continue
            self._due[i] = 0.0
            self._spawn(i)

    def stop(self, timeout: float = 20.0) -> None:
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + timeout
        for proc in self.procs:
            if proc is None:
                continue
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _until_parent_gone(stop: threading.Event) -> None:
    """A child's: its stdin is the parent's pipe, closed however the parent ends."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        stop.set()


def _describe(views: dict[str, list[str]], parts: list[list[str]], singletons: bool) -> str:
    shares = "; ".join(
        f"{'this process' if i == 0 else f'child {i}'}: {', '.join(p)} "
        f"(~{load({n: views[n] for n in p}):.0f} ms/10k)"
        for i, p in enumerate(parts)
        if p
    )
    where = "singletons here" if singletons else "no singletons here"
    return f"projections running ({shares}; {where}); Ctrl-C to stop"


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
