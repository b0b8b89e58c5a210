"""The ASGI app the HTTP benchmark serves: `uvicorn --factory bench._http_app:app`.

Built from RENTBOOK_* environment variables like production (`rentbook serve --no-background`):
PostgreSQL event store and views, Redis sessions, no in-process projection or scheduler
threads (RENTBOOK_WORKERS_IN_PROCESS=false), and rate limits off so the benchmark measures
booking placement rather than the limiter."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fastapi import FastAPI  # noqa: E402

from bench import _memory_report, _sql_trace  # noqa: E402
from infrastructure.cpu_pinning import pin_this_worker  # noqa: E402
from infrastructure.settings import Settings  # noqa: E402
from interfaces.http.app import create_app  # noqa: E402


def app() -> FastAPI:
    _sql_trace.install()  # only with RENTBOOK_BENCH_PQ_TRACE
    settings = Settings()
    pin_this_worker(settings.pin_cpus, settings.api_workers or 1)  # as serve's workers do
    app = create_app(settings=settings, rate_limits={"*": None}, settle_heap=True)
    _memory_report.install(app)  # only with RENTBOOK_BENCH_MEMORY_REPORT
    _install_group_stats(app)  # only with RENTBOOK_BENCH_GROUP_STATS
    return app


GROUP_FIELDS = ("groups", "members", "fallbacks", "stale_members", "notifies", "lead_cpu_s")


def _install_group_stats(app: Any) -> None:
    target = os.environ.get("RENTBOOK_BENCH_GROUP_STATS")
    if not target:
        return
    path = Path(target) / f"{os.getpid()}.json"

    def writer() -> None:
        while True:
            time.sleep(0.5)
            container = getattr(app.state, "container", None)
            committer = getattr(getattr(container, "store", None), "committer", None)
            if committer is None:
                continue
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({f: getattr(committer, f, 0) for f in GROUP_FIELDS}))
            tmp.replace(path)

    threading.Thread(target=writer, name="group-stats", daemon=True).start()
