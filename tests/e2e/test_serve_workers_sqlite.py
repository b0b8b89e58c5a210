"""`rentbook serve --workers 2` on the embedded SQLite default runs one API worker, says so,
and runs the background workers in that same process."""

from __future__ import annotations

from pathlib import Path

import uvicorn
import uvloop
from uvicorn.protocols.http.auto import AutoHTTPProtocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from tests.e2e.served import serve


def test_sqlite_serves_one_worker_and_says_why(tmp_path: Path) -> None:
    env = {"RENTBOOK_ENVIRONMENT": "test", "RENTBOOK_DATA_DIR": str(tmp_path / "var")}
    with serve(["--workers", "2", "--no-seed"], env, tmp_path / "serve.log") as served:
        answered = served.health_pids(want=2, attempts=20)

        assert list(answered) == [served.process.pid]  # no worker processes: this one
        assert answered[served.process.pid]["background_workers"] is True
    output = served.output()
    assert "serving with one API worker, not 2: the embedded SQLite store" in output
    assert "1 API worker; background workers in the same process" in output


def test_uvicorn_picks_uvloop_and_httptools_which_are_dependencies() -> None:
    config = uvicorn.Config("interfaces.http.asgi:app", factory=True)  # serve's defaults
    loop_factory = config.get_loop_factory()
    assert loop_factory is not None
    loop = loop_factory()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()
    assert config.http == "auto"
    assert AutoHTTPProtocol is HttpToolsProtocol
