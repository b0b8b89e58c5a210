"""The notifications endpoints' contract is documented: in the OpenAPI (a summary, a
description, the response model and the problem answers: 401, 422, 503) and in the
README's endpoint table, so a route added to the router without docs fails here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute

from interfaces.http import notifications
from interfaces.http.app import create_app

README = Path(__file__).resolve().parents[2] / "README.md"
MODELS = {
    ("get", "/me/notifications"): "NotificationsPage",
    ("post", "/me/notifications/read"): "ReadResult",
    ("get", "/me/notification-preferences"): "PreferencesPublic",
    ("put", "/me/notification-preferences"): "PreferencesPublic",
}


def _routes() -> list[tuple[str, str]]:
    return [
        (method.lower(), r.path)
        for r in notifications.router.routes
        if isinstance(r, APIRoute)
        for method in r.methods
    ]


def test_every_notifications_operation_is_described_with_its_answers() -> None:
    paths: dict[str, Any] = create_app().openapi()["paths"]
    assert sorted(_routes()) == sorted(MODELS)
    for (method, path), model in MODELS.items():
        op = paths[f"/api/v1{path}"][method]
        assert op["tags"] == ["notifications"]
        assert op["summary"] and op["description"], path
        ok = op["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": f"#/components/schemas/{model}"}, path
        for status in ("401", "422", "503"):
            assert "application/problem+json" in op["responses"][status]["content"], (path, status)


def test_the_readme_lists_every_notifications_endpoint() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Notifications and email", 1)[1].split("\n## ", 1)[0]
    for method, path in _routes():
        assert f"`{method.upper()} {path}" in section, (method, path)
