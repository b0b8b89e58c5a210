"""Helpers for the browser journeys: the served app's mail files, sign-in, and the axe-core
accessibility check (the vendored axe.min.js, injected into the page)."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.polling import eventually

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "interfaces/web/static/vendor/axe.min.js"
DEMO_PASSWORD = "rentbook-demo-password"
ADMIN = "admin@rentbook.example"
RENTER = "renter@rentbook.example"
BLOCKING_IMPACTS = ("serious", "critical")


def mailed_link(mail_dir: Path, email: str, timeout: float = 15.0) -> str:
    """The path of the newest verification link mailed to `email`: without SMTP settings
    the server writes each mail as an .eml file under `<data dir>/mail`."""

    def links() -> list[tuple[float, str]]:
        found: list[tuple[float, str]] = []
        for path in mail_dir.glob("*.eml"):
            mail = message_from_bytes(path.read_bytes(), policy=default)
            if mail["To"] == email:
                text = mail.get_body(("plain",)).get_content()
                found += [(path.stat().st_mtime, m) for m in LINK.findall(text)]
        return found

    found = eventually(links, f"a verification mail to {email} in {mail_dir}", timeout=timeout)
    return max(found)[1]


LINK = re.compile(r"https?://[^/\s]+(/verify-email\?token=\S+)")


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
