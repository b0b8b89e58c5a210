"""The two-worker scheduler hands out the longest recorded unit first."""

from __future__ import annotations

import json
from pathlib import Path

from tests.xdist_groups import DEFAULT_SECONDS, LongestFirst, group_of, recorded_seconds


def test_units_pop_longest_first_unknown_ones_at_the_default_and_ties_by_test_count() -> None:
    queue = LongestFirst({"a.py": 1.0, "b.py": 30.0, "browser": 9.0})
    queue["a.py"] = {"a.py::t": False}
    queue["new.py"] = {"new.py::t1": False, "new.py::t2": False}
    queue["b.py"] = {"b.py::t": False}
    queue["browser"] = {"tests/browser/x.py::t": False}
    queue["other.py"] = {"other.py::t": False}

    order = [queue.popitem(last=False)[0] for _ in range(len(queue))]

    assert order == ["b.py", "browser", "new.py", "other.py", "a.py"]
    assert DEFAULT_SECONDS > 1.0


def test_the_recorded_file_maps_units_to_seconds(tmp_path: Path) -> None:
    path = tmp_path / "durations.json"
    assert recorded_seconds(path) == {}
    path.write_text(json.dumps({"browser": 58.1}))
    assert recorded_seconds(path) == {"browser": 58.1}
    assert group_of("tests/browser/test_pages.py::test_x") == "browser"
    assert group_of("tests/unit/test_money.py::test_x") == "tests/unit/test_money.py"


def test_the_fuzz_runs_as_parts_by_api_section_and_every_test_has_one() -> None:
    fuzz = "tests/http/test_openapi_fuzz.py"
    case = f"{fuzz}::test_operation_never_answers_500"
    assert group_of(f"{case}[GET /api/v1/admin/users-user]") == f"{fuzz}::admin"
    assert group_of(f"{case}[GET /api/v1/users/{{user_id}}-admin]") == f"{fuzz}::me"
    assert group_of(f"{case}[POST /api/v1/bookings-user]") == f"{fuzz}::rest"
    assert group_of(f"{case}[GET /health-user]") == f"{fuzz}::rest"
    assert group_of(f"{fuzz}::test_every_served_operation_is_fuzzed") == f"{fuzz}::rest"
