"""The unnest upsert's string casts: CPU per row of `bulk.pg_upsert` into the audit table.

Task V (issue #9) casts a string column's array parameter to `varchar[]` (unbounded) rather
than `varchar(n)[]`, so the INSERT's assignment cast checks the length (refusing, like COPY)
instead of the explicit cast truncating. This writes audit-shaped rows (five strings, a uuid,
two ints, a timestamp) in pages of `--page` by the unnest upsert, the path following the log
takes, and prints the client CPU and our PostgreSQL backend's CPU per 10k rows.

    python bench/string_casts.py --rows 200000 --page 500
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import temporary_database
from bench._pg_backends import BackendCpu
from infrastructure.views_db import create_views_engine
from projections.audit import AuditView
from projections.base import new_metadata
from projections.bulk import pg_upsert


def _rows(start: int, count: int) -> list[dict[str, object]]:
    at = datetime(2026, 12, 6, tzinfo=UTC)
    rid = str(uuid.uuid4())
    return [
        {
            "position": p,
            "stream_id": uuid.uuid4(),
            "version": 1,
            "type": "Booking.Placed",
            "topic": "domain.booking:Booking.Placed",
            "actor_id": rid,
            "actor_role": "renter",
            "correlation_id": rid,
            "causation_id": None,
            "request_id": rid,
            "recorded_at": at,
        }
        for p in range(start, start + count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--page", type=int, default=500)
    args = parser.parse_args()
    with temporary_database("rentbook_bench_v") as url:
        engine = create_views_engine(url, pool_size=1)
        try:
            metadata = new_metadata()
            table = AuditView().define_tables(metadata, "")["audit"]
            metadata.create_all(engine)
            pages = [_rows(s, args.page) for s in range(0, args.rows, args.page)]
            columns = list(pages[0][0])
            backend = BackendCpu(url)
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
                conn.commit()  # the backend exists, and no transaction is open
                backend.start()
                cpu0, wall0 = time.process_time(), time.perf_counter()
                for page in pages:
                    with conn.begin():
                        pg_upsert(conn, table, columns, page, key=["position"], keep_existing=True)
                client, wall = time.process_time() - cpu0, time.perf_counter() - wall0
                server = backend.stop()
        finally:
            engine.dispose()
    per = 10_000 / args.rows
    print(
        json.dumps(
            {
                "rows": args.rows,
                "page": args.page,
                "client_cpu_s_per_10k": round(client * per, 4),
                "server_cpu_s_per_10k": round(server * per, 4),
                "wall_s": round(wall, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
