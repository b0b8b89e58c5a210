"""`rentbook serve` as a real process logs one JSON object per line outside development,
uvicorn's own lines included, and a request's line carries its request id and command."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.e2e.served import serve


def test_served_logs_are_json_lines_with_the_request_id(tmp_path: Path) -> None:
    env = {"RENTBOOK_ENVIRONMENT": "test", "RENTBOOK_DATA_DIR": str(tmp_path / "var")}
    with serve(["--no-seed"], env, tmp_path / "serve.log") as served:
        r = httpx.get(f"{served.base_url}/api/v1/health/ready", headers={"X-Request-Id": "e2e-1"})
        assert r.status_code == 200, r.text
    lines = [li for li in served.output().splitlines() if li.startswith("{")]
    parsed = [json.loads(li) for li in lines]
    ours = [p for p in parsed if p.get("request_id") == "e2e-1"]
    assert ours and ours[-1]["event"] == "request" and ours[-1]["command"] == "ready"
    assert any(p.get("logger", "").startswith("uvicorn") for p in parsed), served.output()
