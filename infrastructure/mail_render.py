"""Renders notification mail from Jinja2 templates (infrastructure/mail_templates/<kind>.j2,
one per kind: subject, text part and HTML part), with dates in the listing's time zone and
dates and money in the recipient's locale (Babel)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, get_currency_precision
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from application.notification_mail import MailRenderer, OutboxMail, Rendered

TEMPLATES = Path(__file__).parent / "mail_templates"


def locale_of(code: str | None) -> Locale:
    try:
        return Locale.parse(code or "en")
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def money(minor: Any, currency: str | None, locale: Locale) -> str:
    if minor is None or not currency:
        return ""
    digits = get_currency_precision(currency)
    return format_currency(int(minor) / 10**digits, currency, locale=locale)


def when(value: Any, zone: str | None, locale: Locale) -> str:
    """A date (nights, days) as a date; an instant in the listing's time zone."""
    if not value:
        return ""
    text = str(value)
    try:
        tz = ZoneInfo(zone or "UTC")
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    if len(text) == 10:
        return format_date(date.fromisoformat(text), "medium", locale=locale)
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return format_datetime(at, "medium", tzinfo=tz, locale=locale)


class JinjaMailRenderer(MailRenderer):
    def __init__(self, directory: Path = TEMPLATES) -> None:
        loader = FileSystemLoader(str(directory))
        # Subjects and text parts are not HTML: escaping them would show "&amp;".
        self.text = Environment(loader=loader, autoescape=False, undefined=StrictUndefined)
        self.html = Environment(
            loader=loader, autoescape=select_autoescape(default=True), undefined=StrictUndefined
        )
        for env in (self.text, self.html):
            env.keep_trailing_newline = True

    def context(self, mail: OutboxMail) -> dict[str, Any]:
        d, loc = mail.data, locale_of(mail.locale)
        zone = d.get("timezone")
        return {
            "d": _Data(d),
            "name": mail.name,
            "lang": str(loc),
            "start": when(d.get("start"), zone, loc),
            "end": when(d.get("end"), zone, loc),
            "start_at": when(d.get("start_at"), zone, loc),
            "total": money(d.get("total"), d.get("currency"), loc),
            "amount": money(d.get("amount"), d.get("amount_currency") or d.get("currency"), loc),
        }

    def render(self, mail: OutboxMail) -> Rendered:
        name, ctx = f"{mail.kind}.j2", self.context(mail)
        subject = self.text.get_template(name).render(part="subject", **ctx)
        return Rendered(
            subject=" ".join(subject.split()),
            text=self.text.get_template(name).render(part="text", **ctx),
            html=self.html.get_template(name).render(part="html", **ctx),
        )


class _Data(dict[str, Any]):
    """Notification data for templates: a missing key is empty, not an error."""

    def __getattr__(self, key: str) -> Any:
        return self.get(key, "")
