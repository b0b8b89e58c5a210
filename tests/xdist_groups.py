"""How `scripts/test.sh` splits the suite over two pytest-xdist workers (`--dist loadgroup`).

Each module runs whole on one worker, so its module-scoped fixtures are built once, as in a
serial run; a module of `SECTION_PARTS` runs as a few parts instead, each building them once
(on whichever worker takes it). A named group below keeps the tests it names on one worker,
one after another:
- `browser`: the journeys share one served app and one Chromium (session fixtures);
- `many_pg_connections`: the races that open tens of PostgreSQL connections each, so two of
  them never run at once against the shared server's 100 connections.

The groups are picked from node ids in the controller, not from `xdist_group` marks: with
pytest 9.2 xdist 3.8 silently ignores the marks (pytest-dev/pytest-xdist#1386).

Units are handed out longest first, by the seconds recorded in `tests/durations.json` (a unit
it does not know counts as `DEFAULT_SECONDS`; ties go to the unit with more tests), so a long
unit never starts last while the other worker idles. Refresh the file from a whole run:
`RENTBOOK_STORE_DURATIONS=tests/durations.json bash scripts/test.sh`.
"""

from __future__ import annotations

import gc
import json
import os
import re
from collections import OrderedDict
from pathlib import Path

import pytest
from xdist.remote import Producer
from xdist.scheduler import LoadFileScheduling

from infrastructure.heap import settle_heap

# Node id prefix → group.
GROUPS = {
    "tests/browser/": "browser",
    "tests/integration/test_concurrent_booking_postgres.py": "many_pg_connections",
    "tests/integration/test_coupon_race_postgres.py": "many_pg_connections",
    "tests/integration/test_conversations_postgres.py": "many_pg_connections",
    "tests/application/test_identity.py::test_twenty_racing": "many_pg_connections",
    "tests/integration/test_concurrent_orders_postgres.py": "many_pg_connections",
    "tests/integration/test_order_coupon_race_postgres.py": "many_pg_connections",
    "tests/e2e/test_serve_workers_postgres.py": "many_pg_connections",
    "tests/e2e/test_sse_workers_postgres.py": "many_pg_connections",
}

# Modules split into several units by the API section their test ids name (the first path
# segment after /api/v1/): section → part, "rest" for the others. The OpenAPI fuzz has one
# test per operation and role, and whole it would outlast every other unit (~170 s).
SECTION_PARTS = {
    "tests/http/test_openapi_fuzz.py": {
        "admin": "admin",
        "me": "me",
        "users": "me",
        "listings": "listings",
        "search": "listings",
        "places": "listings",
    },
}
_SECTION = re.compile(r"/api/v1/([^/\]\-]+)")

DURATIONS_FILE = Path(__file__).with_name("durations.json")
DEFAULT_SECONDS = 2.0


def group_of(nodeid: str) -> str:
    """The worker-sharing unit of a test: its named group, else its module (or the module's
    part, for the modules of `SECTION_PARTS`)."""
    named = (group for prefix, group in GROUPS.items() if nodeid.startswith(prefix))
    module = nodeid.split("::", 1)[0]
    if module in SECTION_PARTS:
        section = _SECTION.search(nodeid)
        part = SECTION_PARTS[module].get(section.group(1) if section else "", "rest")
        return f"{module}::{part}"
    return next(named, module)


def recorded_seconds(path: Path = DURATIONS_FILE) -> dict[str, float]:
    """Unit → seconds of its last recorded run (empty when the file is missing)."""
    try:
        return {unit: float(s) for unit, s in json.loads(path.read_text()).items()}
    except FileNotFoundError:
        return {}


class LongestFirst(OrderedDict[str, dict[str, bool]]):
    """xdist's work queue, popping the unit expected to take longest (first such on ties)."""

    def __init__(self, seconds: dict[str, float]) -> None:
        super().__init__()
        self.seconds = seconds

    def cost(self, unit: str) -> tuple[float, int]:
        return self.seconds.get(unit, DEFAULT_SECONDS), len(self[unit])

    def popitem(self, last: bool = True) -> tuple[str, dict[str, bool]]:
        if last:
            return super().popitem(last=True)
        unit = max(self, key=self.cost)
        return unit, self.pop(unit)


class GroupedModuleScheduling(LoadFileScheduling):
    def __init__(self, config: pytest.Config, log: Producer | None = None) -> None:
        super().__init__(config, log)
        self.workqueue = LongestFirst(recorded_seconds())

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid)


@pytest.hookimpl(optionalhook=True)  # runs before xdist's own (trylast) choice
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> LoadFileScheduling | None:
    if config.getvalue("dist") == "loadgroup":
        return GroupedModuleScheduling(config, log)
    return None


class DurationRecorder:
    """Sums setup, call and teardown seconds per unit; writes them as `tests/durations.json`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seconds: dict[str, float] = {}

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        unit = group_of(report.nodeid)
        self.seconds[unit] = self.seconds.get(unit, 0.0) + report.duration

    @pytest.hookimpl
    def pytest_sessionfinish(self) -> None:
        rounded = {unit: round(s, 1) for unit, s in sorted(self.seconds.items())}
        self.path.write_text(json.dumps(rounded, indent=1) + "\n")


class QuickWorkerExit:
    """A worker's last cycle collection, done before it reports that it finished.

    Once every worker has reported, the controller ends them, and a worker still running 5 s
    later is sent SIGINT by execnet (`WorkerGateway._terminate_execution`). What a worker
    still does after reporting is pytest's unconfigure, whose two `gc.collect()` calls walk
    the whole heap a long suite leaves; on the loaded machine that took longer than 5 s, and
    the KeyboardInterrupt landed in Hypothesis' gc callback, printed as an unraisable
    exception at the very end of the run. So the worker collects here, while its session is
    still its own (anything a finalizer raises is still reported by pytest), and freezes what
    survives: the collections after it have nothing left to walk."""

    @pytest.hookimpl(trylast=True)  # after the session fixtures' teardown
    def pytest_sessionfinish(self) -> None:
        gc.collect()
        gc.freeze()


class SettledHeap:
    """A pytest process's collector, settled as a serving process's is (`settle_heap`) once
    every test module is imported: the ~350k objects of the imports (modules, the collected
    tests) leave the collector's sight, and the young generation grows. Full collections
    walked them all, several times a minute, while each test's app and container (hundreds
    of thousands of objects) came and went: 20-41% of a worker's CPU in samples of the suite
    (bench/README.md, task G). Reference counting frees as before; cycles are still
    collected, from fewer objects, a little later."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self) -> None:
        settle_heap()


def pytest_configure(config: pytest.Config) -> None:
    """With RENTBOOK_STORE_DURATIONS=<path>, the run records its units' seconds there (in the
    controller under xdist: the workers' reports all reach it). An xdist worker ends quickly
    once it has finished (`QuickWorkerExit`). Every pytest process settles its collector
    once the tests are collected (`SettledHeap`)."""
    path = os.environ.get("RENTBOOK_STORE_DURATIONS")
    config.pluginmanager.register(SettledHeap(), "rentbook-settled-heap")
    if hasattr(config, "workerinput"):
        config.pluginmanager.register(QuickWorkerExit(), "rentbook-quick-worker-exit")
    elif path:
        config.pluginmanager.register(DurationRecorder(Path(path)), "rentbook-durations")
