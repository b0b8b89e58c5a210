"""Any interleaving of check-ins, check-outs (either side, at any instant the clock reaches)
and the deadline commands the scheduler issues keeps the booking on the lifecycle's legal
transitions, with at most one check-in and one check-out per side, and the inspection window
always opened by whatever ended the stay."""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain import booking as b
from domain.booking import TRANSITIONS, Booking
from domain.errors import DomainError
from tests.unit.test_stay import END, GRACE, OWNER, RENTER, START, confirmed

# Every (from, to) the lifecycle table allows.
LEGAL = {(source, target) for sources, target in TRANSITIONS.values() for source in sources}
SIDES = st.sampled_from(["renter", "owner"])
STEP = st.integers(min_value=0, max_value=36)  # hours the clock moves


class StayMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.booking: Booking = confirmed()
        self.now = START - timedelta(hours=GRACE + 6)
        self.history: list[Any] = []
        self.statuses = [self.booking.status]

    def _act(self, command: Any) -> None:
        before = self.booking.version
        with contextlib.suppress(DomainError):
            command()
        new = self.booking.collect_events()
        if not new:
            assert self.booking.version == before  # a refusal records nothing
        self.history.extend(new)
        self._follow(new)

    def _follow(self, new: list[Any]) -> None:
        # Each status-moving event, in order: a check-out may record Started then Ended.
        status = self.statuses[-1]
        for event in new:
            after = {
                "Started": b.IN_PROGRESS,
                "Ended": b.AWAITING_RETURN_INSPECTION,
                "Completed": b.COMPLETED,
                "Cancelled": b.CANCELLED,
                "DisputeOpened": b.DISPUTED,
                "DisputeResolved": b.COMPLETED,
            }.get(type(event).__name__)
            if after is not None:
                assert (status, after) in LEGAL, f"{status} -> {after}"
                status = after
        assert status == self.booking.status
        self.statuses.append(status)

    @rule(hours=STEP)
    def clock_moves(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @rule(side=SIDES, with_report=st.booleans())
    def check_in(self, side: str, with_report: bool) -> None:
        by = RENTER if side == "renter" else OWNER
        report = {"items": [{"name": "Sofa", "status": "ok", "note": "", "photo_ids": []}]}
        self._act(
            lambda: self.booking.check_in(
                by, side, report if with_report else None, GRACE, self.now
            )
        )

    @rule(side=SIDES)
    def check_out(self, side: str) -> None:
        by = RENTER if side == "renter" else OWNER
        self._act(lambda: self.booking.check_out(by, side, None, GRACE, self.now))

    @rule()
    def scheduler_runs(self) -> None:
        """The deadline commands, as the scheduler issues them (each refuses when not due)."""
        system = uuid.uuid4()
        status = self.booking.status
        if status == b.CONFIRMED:
            self._act(lambda: self.booking.begin(system, self.now))
        elif status == b.IN_PROGRESS:
            self._act(lambda: self.booking.finish(system, self.now))
        elif status == b.AWAITING_RETURN_INSPECTION:
            self._act(lambda: self.booking.complete(system, "system", self.now))

    @precondition(lambda self: self.booking.status in (b.AWAITING_RETURN_INSPECTION, b.COMPLETED))
    @rule()
    def owner_claims_damage(self) -> None:
        self._act(lambda: self.booking.open_dispute(OWNER, "owner", "damage", self.now))

    @rule()
    def someone_cancels(self) -> None:
        refund = {"amount": 0, "currency": "EUR"}
        self._act(lambda: self.booking.cancel(RENTER, "renter", "plans", refund, self.now))

    @invariant()
    def at_most_one_check_in_and_out_per_side(self) -> None:
        for kind in ("CheckedIn", "CheckedOut"):
            sides = [e.role for e in self.history if type(e).__name__ == kind]
            assert len(sides) == len(set(sides)) <= 2
        assert set(self.booking.check_ins) <= {"renter", "owner"}

    @invariant()
    def check_ins_and_outs_happened_inside_their_windows(self) -> None:
        for e in self.history:
            if type(e).__name__ == "CheckedIn":
                assert START - timedelta(hours=GRACE) <= e.at < END
            elif type(e).__name__ == "CheckedOut":
                assert START <= e.at < END + timedelta(hours=GRACE)

    @invariant()
    def the_inspection_window_starts_where_the_stay_ended(self) -> None:
        ended = [e for e in self.history if type(e).__name__ == "Ended"]
        assert len(ended) <= 1
        if ended:
            assert self.booking.deadline("inspection_ends_at") == ended[0].at + b.INSPECTION_WINDOW
            assert ended[0].at >= START


TestStayMachine = StayMachine.TestCase
