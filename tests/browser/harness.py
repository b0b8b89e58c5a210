"""Helpers for the browser journeys: the served app's mail log, sign-in, and the axe-core
accessibility check (the vendored axe.min.js, injected into the page)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "interfaces/web/static/vendor/axe.min.js"
DEMO_PASSWORD = "rentbook-demo-password"
ADMIN = "admin@rentbook.example"
RENTER = "renter@rentbook.example"
BLOCKING_IMPACTS = ("serious", "critical")


def mailed_token(log: str, email: str) -> str:
    """The newest verification token mailed to `email` (outside production the logging
    mailer writes the whole mail, token included, to the server's log)."""
    found = re.findall(rf"mail to {re.escape(email)}:.*?\n\n(\S+)\n", log, flags=re.S)
    assert found, f"no mail to {email} in the server log"
    return str(found[-1])


def sign_in(page: Page, base: str, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations of the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in BLOCKING_IMPACTS
    ]


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe found on {page.url}: {violations}"
