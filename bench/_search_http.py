"""The search scenario of http_wrk.py: `GET /api/v1/search/listings` under wrk.

Two stores. `--search-db sqlite` (the default, as before): one uvicorn worker on the
embedded SQLite store and its in-memory column store, workers in-process. `--search-db
postgres`: the way `rentbook serve` runs on PostgreSQL + Redis, `--workers N` API worker
processes spawned by uvicorn (serve's one-`send` protocol), each with its own views pool,
answer cache and places index, and no background workers (serve runs them once in its
parent; nothing is written during the run). The embedded backend on PostgreSQL keeps the
index in the views database (`search_docs`, infrastructure/search_postgres.py), so no worker
builds an index of its own. The seeded database is kept as a template
(`--search-template-db NAME`) and each run serves a copy of it.

Start-up: every worker builds the places index (~2.8 CPU-s); the bench asks /places a few
times per worker and then (`--settle`) waits until the whole process tree idles, so no
worker's start-up is counted against the queries. Reported besides http_wrk's figures:
each process's RSS and CPU over the run (`processes`); on PostgreSQL, the CPU of this
database's backends per query (`own_postgres_cpu_ms_per_request`: http_wrk's
`postgres_cpu_ms_per_request` counts every backend of the shared server) and the server's
plus theirs (`server_and_own_postgres_cpu_ms_per_request`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
from _common import _all_procs, pg_admin_url, process_tree, redis_url, with_db
from _mail_backlog import drain as drain_mail
from _rss import memory_report, rss_detail
from _search_queries import API, query_mix, run_queries
from _search_replica import BLOCK, seed_replicated
from _server_ready import free_port, places_ready, settle
from _servers import start_api_server
from _threads import pin, snapshot, summary

from infrastructure.master_keys import KEY_FILE
from infrastructure.settings import Settings

HEALTHY_S = 180.0  # N workers import and build their containers at once on 2 cores


def bench_search(args: argparse.Namespace, work: Path, run_wrk: Any, stop: Any) -> dict[str, Any]:
    from application.demo_places import demo_cities
    from infrastructure.places_offline import shared_places

    workers = args.workers if args.search_db == "postgres" else 1
    with contextlib.ExitStack() as stack:
        t0 = time.perf_counter()
        if args.search_db == "postgres":
            settings, seeded, backlog = stack.enter_context(_postgres_data(args, work))
        else:
            settings, seeded, backlog = _sqlite_data(args, work)
        setup_s = time.perf_counter() - t0
        cities = demo_cities(shared_places(), max(1, min(args.search_size, 2_000)))
        paths = [
            f"{API}/search/listings?{urlencode(params)}"
            for _, params in query_mix(cities, args.search_queries)
        ]
        (work / "paths.txt").write_text("\n".join(paths) + "\n")
        port = free_port()
        server = _start_server(settings, port, workers, args.server, args.search_db)
        base = f"http://127.0.0.1:{port}"
        try:
            if args.server_cpus:  # every thread, before the warm-up starts the pool's
                pin(server.pid, {int(c) for c in args.server_cpus.split(",")})
            # a short warm-up with the existing clients: caches, lazy imports
            places_ready(base, workers)
            asyncio.run(run_queries(base, query_mix(cities, 200 * workers, seed_=3), 8))
            settled = settle(server.pid, longest_s=args.settle_max) if args.settle else None
            before = _tree_cpu(server.pid)
            meter = BackendsMeter(settings.database_url) if settings.database_url else None
            if meter is not None:
                meter.start()
            env = {"RENTBOOK_WRK_PATHS": str(work / "paths.txt")}
            threads = snapshot(server.pid)
            result = run_wrk(args, base, "search.lua", env, server.pid)
            result["threads"] = summary(
                threads, snapshot(server.pid), result["requests"], server.pid
            )
            result["processes"] = _processes(server.pid, before)
            if meter is not None:  # this database's backends only, not the machine's
                cpu_ms = meter.stop_ms_per_request(result["requests"])
                result["own_postgres_cpu_ms_per_request"] = cpu_ms
                # backends seen during the run: pool connections plus each overflow one opened
                result["own_postgres_backends_seen"] = len(meter.seen)
            result["rss_detail"] = rss_detail(server.pid, work / "search")
            if args.memory_report:
                result["memory_report"] = memory_report(server.pid, work / "memory.json")
            if settled is not None:  # what the server burns idle, taken off the queries' share
                idle_s = settled["idle_cpu_s_per_s"] * result["cpu"]["wall_s"]
                settled["server_cpu_ms_per_request_less_idle"] = round(
                    1000 * (result["cpu"]["server_cpu_s"] - idle_s) / max(1, result["requests"]),
                    3,
                )
            result["settled"] = settled
            result["mail_backlog"] = backlog
        finally:
            stop(server)
    if "own_postgres_cpu_ms_per_request" in result:
        both = result["server_cpu_ms_per_request"] + result["own_postgres_cpu_ms_per_request"]
        result["server_and_own_postgres_cpu_ms_per_request"] = round(both, 3)
    store = (
        "PostgreSQL + Redis, embedded search on PostgreSQL, no background workers"
        if args.search_db == "postgres"
        else "SQLite + embedded search, workers in-process"
    )
    return {
        **result,
        "setup": {"listings": seeded["listings"], "seconds": round(setup_s, 1)},
        "distinct_queries": len(set(paths)),
        "workers": workers,
        "server": f"{args.server}, {workers} worker(s), {store}",
    }


def _sqlite_data(
    args: argparse.Namespace, work: Path
) -> tuple[Settings, dict[str, Any], dict[str, Any]]:

    settings = Settings(environment="test", data_dir=work / "search")
    template = Path(args.search_template) if args.search_template else None
    drained = template / "drained" if template is not None else None
    backlog: dict[str, Any] = {"mode": args.mail_backlog}
    if args.mail_backlog == "drain" and drained and (drained / "events.db").exists():
        shutil.copytree(drained, settings.data_dir)  # seeded and drained by an earlier run
        seeded = json.loads((drained / "seeded.json").read_text())
        backlog.update(json.loads((drained / "drained.json").read_text()), from_template=True)
        return settings, seeded, backlog
    if template is not None and (template / "events.db").exists():  # an earlier seed
        shutil.copytree(template, settings.data_dir, ignore=shutil.ignore_patterns("drained"))
        seeded = json.loads((template / "seeded.json").read_text())
    else:
        seeded, _ = seed_corpus(settings, args.search_size)
        if template is not None:
            shutil.copytree(settings.data_dir, template, dirs_exist_ok=True)
            (template / "seeded.json").write_text(json.dumps(seeded))
    if args.mail_backlog == "drain":
        backlog.update(drain_mail(settings))
        if drained is not None:
            shutil.copytree(settings.data_dir, drained)
            (drained / "seeded.json").write_text(json.dumps(seeded))
            (drained / "drained.json").write_text(json.dumps(backlog))
    return settings, seeded, backlog


@contextlib.contextmanager
def _postgres_data(
    args: argparse.Namespace, work: Path
) -> Iterator[tuple[Settings, dict[str, Any], dict[str, Any]]]:
    """A copy of the seeded template database (seeded first when missing), dropped after.
    The welcome mails stay queued: no process of this server sends them."""

    admin = pg_admin_url()
    template = args.search_template_db or f"rentbook_bench_search_tpl_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (template,))
        fresh = exists.fetchone() is None
        if fresh:
            conn.execute(f'CREATE DATABASE "{template}"')
    data_dir = work / "search"
    data_dir.mkdir(parents=True, exist_ok=True)
    # The template's personal keys are wrapped by the seeding run's generated master key: keep
    # that key file next to the template's name so a reused template still opens.
    kept_keys = Path(tempfile.gettempdir()) / f"{template}.{KEY_FILE}"
    if not fresh and kept_keys.exists():
        shutil.copy2(kept_keys, data_dir / KEY_FILE)
    if fresh:
        seed_settings = Settings(
            environment="test", database_url=with_db(admin, template), data_dir=data_dir,
            postgres_pool_size=4, postgres_max_overflow=4,
        )  # fmt: skip
        seed_corpus(seed_settings, args.search_size)
        # statistics, copied with the template: this server runs no autovacuum, and without
        # them the first runs planned the search statements badly (PostgreSQL 5.1 ms/query)
        with psycopg.connect(with_db(admin, template), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        if (data_dir / KEY_FILE).exists():
            shutil.copy2(data_dir / KEY_FILE, kept_keys)
    name = f"rentbook_bench_search_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = with_db(admin, name)
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM search_docs").fetchone()
        listings = int(row[0]) if row else 0
        settings = Settings(
            environment="test", database_url=url, redis_url=redis_url(),
            redis_key_prefix=f"rentbook-bench:{uuid.uuid4().hex[:10]}:", data_dir=data_dir,
        )  # fmt: skip
        yield settings, {"listings": listings}, {"mode": "keep", "template_db": template}
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if not args.search_template_db:
                conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')


def seed_corpus(settings: Settings, size: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """`search.seed` up to a block of listings; above it the block is replicated in bulk
    (bench/_search_replica.py: a 100k corpus in minutes instead of about an hour)."""
    import search as search_bench

    return seed_replicated(settings, size) if size > BLOCK else search_bench.seed(settings, size)


def _start_server(
    settings: Settings, port: int, workers: int, server: str, db: str
) -> subprocess.Popen[bytes]:
    if db == "sqlite":
        import search as search_bench

        return search_bench.start_server(settings, port, server)
    drop = ("RENTBOOK_MEILISEARCH_URL",)
    return start_api_server(settings, port, workers, server, HEALTHY_S, drop=drop)


class BackendsMeter:
    """CPU of the client backends connected to one database (the machine's other backends,
    other engineers' tests, and autovacuum are not this server's cost), sampled every
    `every` seconds so that a pool's overflow connections, opened and closed during the
    run, count up to their last sample (a lower bound: a backend living less is missed)."""

    def __init__(self, url: str, every: float = 0.2) -> None:
        self.url, self.every = url, every
        self.seen: dict[int, float] = {}
        self.before: dict[int, float] = {}
        self._stop, self._started = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, name="backends-meter", daemon=True)

    def _sample(self, conn: psycopg.Connection[Any]) -> dict[int, float]:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        ).fetchall()
        procs = _all_procs()
        return {int(r[0]): procs[int(r[0])][2] for r in rows if int(r[0]) in procs}

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            self.before = self._sample(conn)
            self.seen = dict(self.before)
            self._started.set()
            while not self._stop.wait(self.every):
                self.seen.update(self._sample(conn))
            self.seen.update(self._sample(conn))

    def start(self) -> None:
        self._thread.start()
        self._started.wait(30)

    def stop_ms_per_request(self, requests: int) -> float:
        self._stop.set()
        self._thread.join(30)
        spent = sum(cpu - self.before.get(pid, 0.0) for pid, cpu in self.seen.items())
        return round(1000 * spent / max(1, requests), 3)


def _tree_cpu(pid: int) -> dict[int, float]:
    procs = _all_procs()
    return {p: procs[p][2] for p in process_tree(pid, procs) if p in procs}


def _processes(pid: int, before: dict[int, float]) -> list[dict[str, Any]]:
    """Each process of the server's tree: its RSS now and its CPU since `before` (uvicorn's
    supervising parent, then each worker)."""
    out = []
    for p, cpu in sorted(_tree_cpu(pid).items()):
        try:
            status = Path(f"/proc/{p}/status").read_text().splitlines()
        except OSError:
            continue
        rss = next((int(x.split()[1]) for x in status if x.startswith("VmRSS:")), 0)
        out.append(
            {"pid": p, "role": "parent" if p == pid else "worker", "rss_mb": round(rss / 1024, 1),
             "cpu_s": round(cpu - before.get(p, 0.0), 2)}
        )  # fmt: skip
    return out
