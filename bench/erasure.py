"""What one erasure costs (`Erasure.erase_by_admin`, as DELETE /admin/users/{id} runs it) on
the embedded default (SQLite), as the log grows: CPU per erasure, and how much of it is the
rebuild of the views that hold personal data (a full pass over the log each time).

    .venv/bin/python bench/erasure.py --users 100,400 --erase 10 [--json out.json]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _common  # noqa: F401  (puts this repository first on sys.path)

from infrastructure.bootstrap import build_container
from infrastructure.settings import Settings
from tests.fakes import CapturingMailer, FakeClock
from tests.http.conftest import CHEAP_ARGON2


def measure(users: int, erase: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(environment="test", data_dir=Path(tmp) / "v")
        clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
        container = build_container(settings, clock=clock, mailer=CapturingMailer(), **CHEAP_ARGON2)
        try:
            admin, _, _ = container.identity.create_admin(
                "admin@example.com", "a long password 1", "Admin", at=clock.now()
            )
            ids = [
                container.identity.register(
                    f"u{n}@example.com", "a long password 1", f"User {n}", at=clock.now()
                )[0]
                for n in range(users)
            ]
            container.runner.catch_up()
            log_events = container.store.current_position()
            erasure = container.erasure
            profile = cProfile.Profile(time.process_time)
            cpu = time.process_time()
            profile.enable()
            for user_id in ids[:erase]:
                erasure.erase_by_admin(user_id, by_admin=admin, at=clock.now())
            profile.disable()
            cpu = time.process_time() - cpu
        finally:
            container.close()
    stats = pstats.Stats(profile)
    rebuild = sum(
        row[3]
        for func, row in stats.stats.items()  # type: ignore[attr-defined]
        if func[2] == "rebuild_all" and func[0].endswith("runner.py")
    )
    return {
        "users": users,
        "log_events": log_events,
        "erasures": erase,
        "cpu_ms_per_erasure": round(1000 * cpu / erase, 1),
        "rebuild_share": round(rebuild / cpu, 3) if cpu else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", default="100,400")
    parser.add_argument("--erase", type=int, default=10)
    parser.add_argument("--json")
    args = parser.parse_args()
    rows = [measure(int(n), args.erase) for n in args.users.split(",")]
    for row in rows:
        print(row)
    if args.json:
        Path(args.json).write_text(json.dumps({"erasure": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
