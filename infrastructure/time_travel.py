"""Moving the container's clock forward (outside production) and running, at once, what fell
due in the skipped time: deadlines (expiry, start, end, completion) and the payments
scheduler's tick (payouts, deposit follow-ups, reconciliation).

One deadline can lead to the next (a stay that started can also end within the skipped
time), and the deadlines view must see the first command's events before it lists the next,
so the due work runs in rounds until a round records nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from eventsourcing.persistence import IntegrityError

from infrastructure.bootstrap import Container
from infrastructure.clock import OffsetClock

MAX_ROUNDS = 8
# Generous: on a loaded machine a short wait ran the round on a stale view and ended early.
VIEW_WAIT_SECONDS = 30.0
# The views the due work reads: what is due, and which payouts are.
DUE_VIEWS = ("deadlines", "payments")


@dataclass(frozen=True)
class ClockState:
    offset: timedelta
    now: datetime
    position: int  # the event-store position after the due work ran


def movable_clock(container: Container) -> OffsetClock | None:
    clock = container.clock
    return clock if isinstance(clock, OffsetClock) else None


def run_due_work(container: Container) -> int:
    """Runs the due work at the clock's now, in rounds; returns the final position."""
    store, runner = container.store, container.runner
    for _ in range(MAX_ROUNDS):
        before = store.current_position()
        runner.wait_for(before, DUE_VIEWS, VIEW_WAIT_SECONDS)
        now = container.clock.now()
        try:
            container.scheduler.run_due(now)
            if container.payments_wiring is not None:
                container.payments_wiring.payments.run_due(now)
        except IntegrityError:
            # The in-process scheduler acted on the same deadline at the same moment: the
            # next round reads what it recorded.
            continue
        if store.current_position() == before:
            break
    return store.current_position()


def advance(container: Container, clock: OffsetClock, delta: timedelta) -> ClockState:
    """Moves `clock` forward by `delta` (ValueError unless > 0) and runs what fell due."""
    clock.advance(delta)
    position = run_due_work(container)
    return ClockState(clock.offset, clock.now(), position)
