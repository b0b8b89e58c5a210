"""The city index (~40 MB kept, ~150 MB at its build's peak) is built on the first place
query (or at a serving API worker's start-up, tests/unit/test_places_preload.py), never by
starting the in-process workers: a process that serves no /places request (the search path,
the background process of a multi-worker serve) must not hold it."""

from __future__ import annotations

import time
from typing import Any

from infrastructure.bootstrap import build_container
from infrastructure.places_offline import OfflinePlaces
from infrastructure.settings import Settings
from tests.unit.test_places import TABLE


def test_starting_the_workers_does_not_build_the_city_index(sqlite_settings: Settings) -> None:
    loads: list[int] = []

    def cities() -> list[dict[str, Any]]:
        loads.append(1)
        return list(TABLE)

    container = build_container(sqlite_settings, time_cost=1, memory_cost=64, parallelism=1)
    container.places = OfflinePlaces(cities)
    try:
        container.start_workers(scheduler_interval=0.5)
        time.sleep(1.0)  # the old preload thread built this tiny table in milliseconds
        assert loads == []

        assert container.places.autocomplete("ber")[0].name == "Berlin"
        assert loads == [1]
    finally:
        container.close()
