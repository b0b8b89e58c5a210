"""A bench server's group-commit counters: `bench/_http_app.py` writes them twice a second to
`$RENTBOOK_BENCH_GROUP_STATS/<pid>.json`; `http_wrk.py` sums them over the workers, before
and after the load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIELDS = ("groups", "members", "fallbacks", "stale_members", "notifies", "lead_cpu_s")


def read(directory: Path) -> dict[str, float]:
    """The counters summed over every worker that wrote them."""
    total = dict.fromkeys(FIELDS, 0.0)
    for file in directory.glob("*.json"):
        for field, value in json.loads(file.read_text()).items():
            total[field] = total.get(field, 0.0) + value
    return total


def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    """What happened between two readings, per group."""
    d = {f: after.get(f, 0.0) - before.get(f, 0.0) for f in FIELDS}
    groups = d["groups"] or 1
    return {
        "groups": int(d["groups"]),
        "members_per_group": round(d["members"] / groups, 2),
        "fallbacks": int(d["fallbacks"]),
        "stale_members": int(d["stale_members"]),  # rejected by the group's checks
        "notifies_per_group": round(d["notifies"] / groups, 3),
        "leader_cpu_us_per_group": round(1e6 * d["lead_cpu_s"] / groups, 1),
        "leader_cpu_us_per_member": round(1e6 * d["lead_cpu_s"] / (d["members"] or 1), 1),
    }
