"""The coupon process on the in-memory store: one welcome coupon per sign-up however often the
log is replayed or the job retried; an old sign-up gets none; give-backs follow the policy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from application.coupon_process import WELCOME_JOB, CouponProcess
from application.coupons import Coupons, welcome_code
from application.jobs import InlineJobQueue, RetryPolicy
from domain.coupon import Coupon, coupon_id_for
from domain.coupon_terms import CouponTerms
from tests.builders import NOW, identity_of, make_world


class FlakyJobs(InlineJobQueue):
    """Every job fails once after doing its work (a worker dying before it reports)."""

    def __init__(self) -> None:
        super().__init__(RetryPolicy(max_retries=2))
        self.failed_once: set[str] = set()

    def register(self, name: str, handler: Any) -> None:
        def flaky(**kwargs: Any) -> Any:
            result = handler(**kwargs)
            key = repr(sorted(kwargs.items()))
            if key not in self.failed_once:
                self.failed_once.add(key)
                raise RuntimeError("worker lost after the work was done")
            return result

        super().register(name, flaky)


def coupons_of(store: Any) -> list[Coupon]:
    ids = {
        n.originator_id
        for n in store.recorder.select_notifications(start=1, limit=10_000)
        if n.topic.endswith("Coupon.Created")
    }
    return [store.repository.get(i) for i in ids]


def test_a_sign_up_gets_one_welcome_coupon_despite_retries_and_replays() -> None:
    world = make_world()
    jobs = FlakyJobs()
    process = CouponProcess(world.store, Coupons(world.store), jobs, now=lambda: NOW)
    user_id, _ = identity_of(world.store).register("new@example.com", "x" * 12, "New", at=NOW)
    process.catch_up()
    process.tracking = world.store.factory.tracking_recorder()  # a lost position: replay
    process.catch_up()
    jobs.jobs.clear()  # and a queue that forgot the job ran
    process.catch_up()
    assert process.issue_welcome(str(user_id), NOW.isoformat())  # a manual retry
    welcome = [c for c in coupons_of(world.store) if c.conditions.user_id == user_id]
    assert len(welcome) == 1
    (coupon,) = welcome
    assert coupon.code == welcome_code(user_id) and coupon.id == coupon_id_for(coupon.code)
    assert coupon.conditions.valid_until == NOW + timedelta(days=30)
    assert coupon.conditions.max_redemptions == 1
    # the job's first attempt failed after doing its work, and its retry found the coupon
    assert any(str(user_id) in attempt for attempt in jobs.failed_once)
    assert all(j.name == WELCOME_JOB and j.status == "finished" for j in jobs.jobs.values())


def test_a_sign_up_older_than_the_welcome_window_gets_no_coupon() -> None:
    world = make_world()
    later = NOW + timedelta(days=31)
    process = CouponProcess(world.store, Coupons(world.store), InlineJobQueue(), now=lambda: later)
    identity_of(world.store).register("old@example.com", "x" * 12, "Old", at=NOW)
    process.catch_up()
    assert [c for c in coupons_of(world.store) if c.conditions.user_id is not None] == []


def test_a_cancellation_after_the_start_keeps_the_redemption() -> None:
    world = make_world()
    coupons = Coupons(world.store)
    process = CouponProcess(world.store, coupons, InlineJobQueue(), now=lambda: NOW)
    terms = CouponTerms(kind="percent", percent_bp=1000, funded_by="platform")
    world.store.record(Coupon.create("KEEP", terms, world.admin.id, "admin", NOW))
    listing = world.active_listing()
    early, _ = world.bookings.place(
        world.renter,
        listing,
        start="2026-07-01",
        end="2026-07-03",
        quantity=1,
        guests=1,
        at=NOW,
        coupon_code="KEEP",
    )
    world.bookings.cancel(world.admin, early, "owner asked", NOW + timedelta(days=1))
    process.catch_up()
    coupon = world.store.repository.get(coupon_id_for("KEEP"))
    assert coupon.redeemed == 0 and coupon.redemptions[str(early)]["released"]
    late, _ = world.bookings.place(
        world.renter,
        listing,
        start="2026-08-01",
        end="2026-08-03",
        quantity=1,
        guests=1,
        at=NOW,
        coupon_code="KEEP",
    )
    booking = world.store.repository.get(late)
    booking.cancel(world.admin.id, "admin", "after the start", {}, booking.start_at)
    world.store.record(booking)
    process.catch_up()
    assert world.store.repository.get(coupon_id_for("KEEP")).redeemed == 1
