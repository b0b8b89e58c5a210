"""`rentbook project`'s supervisor (`interfaces/cli/project.py` `Children`): a child that
exits is started again after a backoff that grows while it keeps dying, and starts short
again after a long healthy run."""

from __future__ import annotations

import subprocess
import sys

import pytest

from interfaces.cli import project
from interfaces.cli.project import Children


class QuickExits(Children):
    """Children that exit at once (a crash loop), counted as they start."""

    spawned = 0

    def _spawn(self, i: int) -> None:
        self.procs[i] = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
        self.procs[i].wait()  # type: ignore[union-attr]
        self._started[i] = self.clock()
        self.spawned += 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_dead_child_restarts_after_a_backoff_that_doubles(clock: Clock) -> None:
    children = QuickExits([["bookings"], []], clock.monotonic)  # an empty share: no process
    children.start()
    assert children.spawned == 1 and len(children.procs) == 1
    waits = []
    for _ in range(4):
        children.restart_exited()  # sees the exit, schedules the restart
        began = clock.now
        while children.spawned == len(waits) + 1:
            clock.now += 0.5
            children.restart_exited()
        waits.append(clock.now - began)
    assert waits == [1.0, 2.0, 4.0, 8.0]


def test_a_child_that_ran_long_restarts_after_the_shortest_backoff(clock: Clock) -> None:
    children = QuickExits([["audit"]], clock.monotonic)
    children.start()
    children._failures[0] = 5  # it had crashed before
    clock.now += project.HEALTHY_SECONDS + 1  # then ran a long while
    children.restart_exited()
    clock.now += 1.0
    children.restart_exited()
    assert children.spawned == 2
