"""Position notices and the shared read (projections/shared_reads.py): whichever of the
projector's notices arrive, a waiter ends with the position it waits for; one delivered
after the last move is enough without any poll (no notice lost between a waiter's check
and its wait); all dropped, the poll still gets there."""

from __future__ import annotations

import threading
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.shared_reads import SharedReads

NEVER = 3600.0


def _wait_while_moving(delivered: list[bool], interval: float) -> tuple[bool, SharedReads]:
    """Another "process" moves the position once per flag, NOTIFYing when the flag says
    so; a waiter here waits for the last position as `ProjectionRunner.wait_for` does."""
    changed = threading.Condition()
    reads = SharedReads(changed, interval)
    stored, seen = [0], [0]
    target = len(delivered)

    def read() -> None:
        seen[0] = stored[0]

    def mover() -> None:
        for flag in delivered:
            stored[0] += 1  # committed, then notified
            if flag:
                reads.moved()

    answer = [False]

    def waiter() -> None:
        deadline = time.monotonic() + 20.0  # only a lost notice comes near it
        with changed:
            ticket = reads.ticket()
            while (remaining := deadline - time.monotonic()) > 0:
                if seen[0] >= target:
                    answer[0] = True
                    return
                reads.wait(ticket, remaining, read)

    threads = [threading.Thread(target=waiter), threading.Thread(target=mover)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answer[0], reads


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.booleans(), max_size=12).map(lambda flags: [*flags, True]))
def test_a_notice_after_the_last_move_ends_the_wait_without_polling(
    delivered: list[bool],
) -> None:
    answer, reads = _wait_while_moving(delivered, NEVER)
    assert answer
    assert reads.reads <= 1 + reads.notices  # the arrival's read, then only notices'


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=1, max_value=12))
def test_dropped_notices_only_leave_the_wait_to_the_poll(moves: int) -> None:
    answer, reads = _wait_while_moving([False] * moves, 0.01)
    assert answer and reads.notices == 0
