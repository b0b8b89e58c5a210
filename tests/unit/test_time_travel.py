"""Time travel's one rule, "as of an instant" is the last version recorded at or before
it, at its edges: an instant before the stream, exactly at an event, naive (UTC) instants,
and a version beyond the stream's head."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from application.time_travel import state_at, version_at
from domain.errors import NotFoundError
from tests.builders import make_world


def test_the_version_as_of_an_instant_and_the_state_then() -> None:
    world = make_world()
    listing_id = world.active_listing()  # created, submitted, approved: three versions
    times = [e.timestamp for e in world.store.events.get(listing_id)]
    assert len(times) == 3
    assert version_at(world.store, listing_id, times[0] - timedelta(microseconds=1)) is None
    assert version_at(world.store, listing_id, times[1]) == 2  # an event at the instant counts
    assert version_at(world.store, listing_id, times[2].replace(tzinfo=None)) == 3  # naive: UTC
    assert state_at(world.store, listing_id, at=times[1]).version == 2
    assert state_at(world.store, listing_id, version=1).version == 1
    assert state_at(world.store, listing_id).version == 3


def test_what_did_not_exist_is_not_found() -> None:
    world = make_world()
    listing_id = world.active_listing()
    first = next(iter(world.store.events.get(listing_id))).timestamp
    for code, kwargs in (
        ("no_state_then", {"at": first - timedelta(seconds=1)}),
        ("version_not_found", {"version": 4}),
        ("stream_not_found", {}),
    ):
        stream = uuid4() if code == "stream_not_found" else listing_id
        with pytest.raises(NotFoundError) as raised:
            state_at(world.store, stream, **kwargs)  # type: ignore[arg-type]
        assert raised.value.code == code
