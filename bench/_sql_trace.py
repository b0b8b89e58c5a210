"""libpq protocol traces of a server's PostgreSQL connections, and what they add up to.

With `RENTBOOK_BENCH_PQ_TRACE=<dir>` in its environment, `bench/_http_app.py` traces every
psycopg connection the server opens (the event store's pool and SQLAlchemy's alike) into a
file of its own in `<dir>` (`PGconn.trace`, timestamps suppressed). `counts` then reads what
the client sent and got: statements (`Query` + `Execute` messages), statements parsed
(`Parse`), and round trips (`ReadyForQuery`: one per `Sync` or simple `Query`, each a wait for
the server; several Syncs of one pipeline in flight together would count once each).
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from pathlib import Path
from typing import Any

ENV = "RENTBOOK_BENCH_PQ_TRACE"
_SHOWN = 70  # characters of a statement's text shown
# (direction, message) -> the name it is counted under
_COUNTED = {
    ("F", "Query"): "simple_queries",
    ("F", "Execute"): "executes",
    ("F", "Parse"): "parses",
    ("F", "Sync"): "syncs",
    ("B", "ReadyForQuery"): "round_trips",
}


def install() -> None:
    """Traces every psycopg connection made from now on, when `ENV` names a directory."""
    directory = os.environ.get(ENV)
    if not directory:
        return
    import psycopg

    numbers = itertools.count()
    connect = psycopg.Connection.connect.__func__  # type: ignore[attr-defined]

    def traced(cls: Any, *args: Any, **kwargs: Any) -> Any:
        conn = connect(cls, *args, **kwargs)
        path = Path(directory) / f"conn-{os.getpid()}-{next(numbers)}.trace"
        # Kept open for the connection's life: libpq writes to it from C.
        stream = conn._rentbook_trace = path.open("w")
        conn.pgconn.trace(stream.fileno())
        conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        return conn

    psycopg.Connection.connect = classmethod(traced)  # type: ignore[method-assign,assignment]


def counts(directory: Path) -> Counter[str]:
    """Messages counted over every trace in `directory` so far, and the statements run by
    their text's first words (`statement: ...`)."""
    total: Counter[str] = Counter()
    for path in directory.glob("*.trace"):
        prepared: dict[str, str] = {}  # this connection's statement names -> text
        with path.open(errors="replace") as lines:
            for line in lines:
                parts = line.rstrip("\n").split("\t", 3)
                if len(parts) < 3:
                    continue
                name = _COUNTED.get((parts[0], parts[2].strip()))
                if name:
                    total[name] += 1
                body = parts[3].strip() if len(parts) > 3 else ""
                if parts[:3:2] == ["F", "Parse"]:
                    words = body.split('"')  # "name" "text" ...
                    if len(words) > 3:
                        prepared[words[1]] = " ".join(words[3].split())[:_SHOWN]
                elif parts[:3:2] == ["F", "Bind"]:
                    words = body.split('"')  # "portal" "statement" ...
                    if len(words) > 3:
                        total["statement: " + prepared.get(words[3], "?")] += 1
                elif parts[:3:2] == ["F", "Query"]:
                    total["statement: " + " ".join(body.strip('"').split())[:_SHOWN]] += 1
    return total
