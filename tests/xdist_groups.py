"""How `scripts/test.sh` splits the suite over two pytest-xdist workers (`--dist loadgroup`).

Each module runs whole on one worker, so its module-scoped fixtures are built once, as in a
serial run. A named group below keeps the tests it names on one worker, one after another:
- `browser`: the journeys share one served app and one Chromium (session fixtures);
- `many_pg_connections`: the races that open tens of PostgreSQL connections each, so two of
  them never run at once against the shared server's 100 connections.

The groups are picked from node ids in the controller, not from `xdist_group` marks: with
pytest 9.2 xdist 3.8 silently ignores the marks (pytest-dev/pytest-xdist#1386).
"""

from __future__ import annotations

import pytest
from xdist.remote import Producer
from xdist.scheduler import LoadFileScheduling

# Node id prefix → group.
GROUPS = {
    "tests/browser/": "browser",
    "tests/integration/test_concurrent_booking_postgres.py": "many_pg_connections",
    "tests/integration/test_coupon_race_postgres.py": "many_pg_connections",
    "tests/integration/test_conversations_postgres.py": "many_pg_connections",
    "tests/application/test_identity.py::test_twenty_racing": "many_pg_connections",
}


def group_of(nodeid: str) -> str:
    """The worker-sharing unit of a test: its named group, else its module."""
    named = (group for prefix, group in GROUPS.items() if nodeid.startswith(prefix))
    return next(named, nodeid.split("::", 1)[0])


class GroupedModuleScheduling(LoadFileScheduling):
    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid)


@pytest.hookimpl(optionalhook=True)  # runs before xdist's own (trylast) choice
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> LoadFileScheduling | None:
    if config.getvalue("dist") == "loadgroup":
        return GroupedModuleScheduling(config, log)
    return None
