"""Listing v1 → v2 (the grace hours split into check-in and check-out): stored v1 events and
v1 snapshots, recorded by the old class, read through today's classes as v2."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from domain import listing_upcasts
from domain.listing import Listing
from domain.stay import DEFAULT_GRACE_HOURS, MAX_GRACE_HOURS
from tests.builders import listing_spec, memory_store
from tests.stored_v1 import GRACE_AT_VERSION, LISTING_ID, OWNER_ID, insert_v1_listing

AT = datetime(2026, 12, 4, 12, tzinfo=UTC)


def both_graces(listing: Listing) -> tuple[int, int]:
    return listing.spec["check_in_grace_hours"], listing.spec["check_out_grace_hours"]


def state(listing: Listing) -> dict[str, Any]:
    return {k: v for k, v in vars(listing).items() if k != "_pending_events"}


def test_v1_events_load_as_v2_with_check_out_taking_the_old_grace() -> None:
    store = memory_store()
    insert_v1_listing(store, with_snapshot=False)
    events = list(store.events.get(LISTING_ID))
    assert all(type(e).__qualname__.startswith("Listing.") for e in events)
    created, updated = events[0], events[1]
    assert isinstance(created, Listing.Created) and isinstance(updated, Listing.Updated)
    assert created.owner_id == OWNER_ID
    assert (created.spec["check_in_grace_hours"], created.spec["check_out_grace_hours"]) == (6, 6)
    assert updated.changes == {
        "title": "Harbour loft, river view",
        "check_in_grace_hours": 12,
        "check_out_grace_hours": 12,
    }
    for version, grace in GRACE_AT_VERSION.items():
        listing = store.repository.get(LISTING_ID, version=version)
        assert both_graces(listing) == (grace, grace)
    assert store.repository.get(LISTING_ID).status == "active"


def test_a_v1_snapshot_loads_to_the_same_listing_as_the_upcast_replay() -> None:
    with_snapshot, without = memory_store(), memory_store()
    insert_v1_listing(with_snapshot)
    insert_v1_listing(without, with_snapshot=False)
    assert with_snapshot.snapshots is not None
    assert [s.originator_version for s in with_snapshot.snapshots.get(LISTING_ID)] == [2]
    for version in (2, 3, 4, None):
        from_snapshot = with_snapshot.repository.get(LISTING_ID, version=version)
        replayed = without.repository.get(LISTING_ID, version=version)
        assert state(from_snapshot) == state(replayed)
    assert both_graces(with_snapshot.repository.get(LISTING_ID)) == (12, 12)


def test_a_v1_listing_edits_and_snapshots_as_v2_afterwards() -> None:
    store = memory_store()
    insert_v1_listing(store)
    listing = store.repository.get(LISTING_ID)
    listing.update({"check_out_grace_hours": 2}, OWNER_ID, AT)
    store.save(listing)
    store.take_snapshot(LISTING_ID)
    again = store.repository.get(LISTING_ID)
    assert both_graces(again) == (12, 2)
    assert both_graces(store.repository.get(LISTING_ID, version=4)) == (12, 12)


def test_a_spec_from_before_the_grace_hours_existed_gets_the_default_for_both() -> None:
    spec = listing_spec()
    spec.pop("check_in_grace_hours", None)
    state = {"owner_id": uuid4(), "spec": spec, "at": AT}
    listing_upcasts.created_v1_v2(state)
    assert state["spec"]["check_in_grace_hours"] == DEFAULT_GRACE_HOURS
    assert state["spec"]["check_out_grace_hours"] == DEFAULT_GRACE_HOURS
    assert "check_in_grace_hours" not in spec  # the stored state's dict is not edited


def test_a_v1_edit_without_grace_hours_is_left_as_it_was() -> None:
    state: dict[str, Any] = {"changes": {"title": "New"}, "by": uuid4(), "at": AT}
    listing_upcasts.updated_v1_v2(state)
    assert state["changes"] == {"title": "New"}


def _v1_created_state(owner_id: UUID, grace: int) -> dict[str, Any]:
    """A Created event's state as the v1 class recorded it (one grace for both ends)."""
    created = Listing.create(owner_id, listing_spec(check_in_grace_hours=grace), AT)
    event = created.pending_events[0]
    v1 = {k: v for k, v in vars(event).items()}
    v1["spec"] = {k: v for k, v in v1["spec"].items() if k != "check_out_grace_hours"}
    return v1


@given(grace=st.integers(0, MAX_GRACE_HOURS), title=st.text("abc xyz", min_size=3, max_size=20))
def test_upcast_v1_loads_the_same_listing_as_v2_written_with_both_graces_equal(
    grace: int, title: str
) -> None:
    owner_id = uuid4()
    v1 = _v1_created_state(owner_id, grace)
    v1["spec"]["title"] = title
    Listing.Created.upcast_v1_v2(v1)  # as the mapper does on read
    upcast = object.__new__(Listing.Created)
    object.__setattr__(upcast, "__dict__", v1)
    from_v1 = upcast.mutate(None)

    spec = listing_spec(title=title, check_in_grace_hours=grace, check_out_grace_hours=grace)
    direct = Listing.create(owner_id, spec, AT)
    assert isinstance(from_v1, Listing)
    assert comparable(from_v1) == comparable(direct)
    assert (from_v1.owner_id, from_v1.status, from_v1.created_at) == (owner_id, "draft", AT)


def comparable(listing: Listing) -> dict[str, Any]:
    """The state, less what differs between any two creations (id and recording times)."""
    skip = ("_id", "_created_on", "_modified_on")
    return {k: v for k, v in state(listing).items() if k not in skip}


@given(grace=st.integers(0, MAX_GRACE_HOURS))
def test_an_upcast_v1_snapshot_state_equals_the_v2_listing_with_both_graces_equal(
    grace: int,
) -> None:
    direct = Listing.create(uuid4(), listing_spec(check_in_grace_hours=grace), AT)
    direct.spec["check_out_grace_hours"] = grace
    v1_state = {k: v for k, v in state(direct).items() if k not in ("_id", "_version")}
    v1_state["spec"] = {k: v for k, v in direct.spec.items() if k != "check_out_grace_hours"}
    Listing.upcast_v1_v2(v1_state)
    assert v1_state == {k: v for k, v in state(direct).items() if k not in ("_id", "_version")}
