#!/usr/bin/env python
"""CSV export speed and memory. Prints one JSON object.

1. Data: `--rows` bookings placed within one month (plus as many again outside it), written
   straight into the bookings view and the analytics view's listings (200 listings whose
   titles carry commas and quotes), on PostgreSQL (a throwaway database) or `--sqlite`.
2. Export: `GET /api/v1/admin/exports/bookings.csv?from=&to=` for that month and
   `GET /api/v1/me/exports/bookings.csv` for the owner of them all, through the real app
   (TestClient streaming), parsed back with the csv module row by row as it arrives.
3. Memory: this process's RSS (server and client share it) sampled every chunk; reported as
   the RSS before, the peak during, and the growth; `--rows` at a tenth first, so a flat
   profile shows as the same growth for 10x the rows.

Run:  .venv/bin/python bench/csv_export.py                  (100k rows, PostgreSQL)
      .venv/bin/python bench/csv_export.py --rows 20000 --sqlite
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, temporary_database
from fastapi.testclient import TestClient

from infrastructure.bootstrap import Container, build_container
from infrastructure.settings import Settings
from interfaces.http.app import create_app

MONTH = datetime(2026, 11, 1, tzinfo=UTC)
PASSWORD = "bench-password-long"
INSERT_CHUNK = 5_000


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def seed(container: Container, owner_id: uuid.UUID, rows: int) -> float:
    """`rows` bookings in November 2026 and `rows` more in October; seconds taken."""
    started = time.perf_counter()
    bookings = container.runner.tables("bookings")["bookings"]
    listings = container.runner.tables("analytics")["listings"]
    listing_ids = [uuid.uuid4() for _ in range(200)]
    with container.views.begin() as conn:
        conn.execute(
            listings.insert(),
            [
                {
                    "listing_id": lid,
                    "version": 1,
                    "owner_id": owner_id,
                    "title": f'Loft {n}, the "blue" one',
                    "category": "stay",
                    "city": "Lisbon",
                    "country": "PT",
                    "unit": "night",
                    "created_day": MONTH.date(),
                }
                for n, lid in enumerate(listing_ids)
            ],
        )
    span = timedelta(days=30).total_seconds()
    for month_start in (MONTH, MONTH - timedelta(days=31)):
        for start in range(0, rows, INSERT_CHUNK):
            chunk = []
            for n in range(start, min(rows, start + INSERT_CHUNK)):
                at = month_start + timedelta(seconds=span * n / rows)
                chunk.append(
                    {
                        "id": uuid.uuid4(),
                        "version": 3,
                        "listing_id": listing_ids[n % len(listing_ids)],
                        "owner_id": owner_id,
                        "renter_id": uuid.uuid4(),
                        "status": "confirmed",
                        "unit": "night",
                        "start": "2027-01-03",
                        "end": "2027-01-05",
                        "quantity": 1,
                        "guests": 2,
                        "total_amount": 22_400 + n % 1000,
                        "currency": "EUR",
                        "expires_at": None,
                        "created_at": at,
                        "updated_at": at,
                        "stay": {"check_ins": {}, "check_outs": {}},
                    }
                )
            with container.views.begin() as conn:
                conn.execute(bookings.insert(), chunk)
    return time.perf_counter() - started


def stream(client: TestClient, path: str, token: str, **params: str) -> dict[str, Any]:
    """Streams one export, parsing it as it arrives; rows/s and the RSS profile."""
    before = peak = rss_mb()
    samples: list[float] = []
    chunks = 0

    def lines(response: Any) -> Iterator[str]:
        nonlocal peak, chunks
        for text in response.iter_text():
            chunks += 1
            if chunks % 20 == 0:
                now = rss_mb()
                peak = max(peak, now)
                samples.append(round(now, 1))
            yield from text.splitlines(keepends=True)

    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {token}"}
    with client.stream("GET", f"/api/v1{path}", params=params, headers=headers) as response:
        assert response.status_code == 200, response.read()
        first_byte = time.perf_counter() - started
        reader = csv.reader(lines(response))
        header = next(reader)
        rows = sum(1 for row in reader if len(row) == len(header))
    seconds = time.perf_counter() - started
    peak = max(peak, rss_mb())
    step = max(1, len(samples) // 10)
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "first_byte_ms": round(first_byte * 1000, 1),
        "rss_before_mb": round(before, 1),
        "rss_peak_mb": round(peak, 1),
        "rss_growth_mb": round(peak - before, 1),
        "rss_samples_mb": samples[::step],
    }


def run(rows: int, settings: Settings) -> dict[str, Any]:
    container = build_container(settings, time_cost=1, memory_cost=64, parallelism=1)
    try:
        email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
        admin_id, _, _ = container.identity.create_admin(
            email, PASSWORD, "Bench Admin", at=datetime.now(UTC)
        )
        seconds = seed(container, admin_id, rows)
        with TestClient(create_app(container, rate_limits={"*": None})) as client:
            login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            token = login.json()["token"]
            month = {"from": "2026-11-01", "to": "2026-12-01"}
            admin = stream(client, "/admin/exports/bookings.csv", token, **month)
            owner = stream(client, "/me/exports/bookings.csv", token, **month)
        assert admin["rows"] == owner["rows"] == rows, (admin["rows"], owner["rows"])
        return {"seed_seconds": round(seconds, 1), "admin_month": admin, "owner_month": owner}
    finally:
        container.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {"backend": "sqlite" if args.sqlite else "postgresql"}
    at_start = machine()  # before the seeding loads the machine
    for rows in (args.rows // 10, args.rows):
        with ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            url = None if args.sqlite else stack.enter_context(temporary_database("rb_csv"))
            settings = Settings(environment="test", database_url=url, data_dir=tmp / "var")
            results[f"rows_{rows}"] = run(rows, settings)
    small, large = results[f"rows_{args.rows // 10}"], results[f"rows_{args.rows}"]
    results["memory_flat"] = {
        "growth_mb_at_tenth": small["admin_month"]["rss_growth_mb"],
        "growth_mb_at_full": large["admin_month"]["rss_growth_mb"],
    }
    results["machine"] = at_start
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
