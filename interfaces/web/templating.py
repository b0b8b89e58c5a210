"""Jinja2 (autoescaped) and the filters pages share: money in its currency, instants and
dates in the listing's time zone."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from domain.money import major_units
from interfaces.web.session import CSRF_FIELD, CSRF_HEADER, Visitor

HERE = Path(__file__).parent
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "BRL": "R$", "AUD": "A$"}


def money(amount: int | None, currency: str = "EUR") -> str:
    """Minor units as the currency's major units: 40656 USD → "$406.56"."""
    value = int(amount or 0)
    sign = "-" if value < 0 else ""
    value = abs(value)
    whole, _, fraction = major_units(value, currency).partition(".")
    text = f"{int(whole):,}" + (f".{fraction}" if fraction else "")
    symbol = _SYMBOLS.get(currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def _instant(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def local_time(value: datetime | str | None, tz: str = "UTC") -> str:
    """An instant as the listing's wall-clock time, with the zone's abbreviation."""
    instant = _instant(value)
    if instant is None:
        return ""
    local = instant.astimezone(ZoneInfo(tz or "UTC"))
    return f"{local:%a %d %b %Y, %H:%M} {local.tzname()}"


def day(value: date | str | None, tz: str = "UTC") -> str:
    """A booking's bound as its listing shows it: a nightly date (already local to the
    listing) as "Mon 01 Mar 2027", an hourly instant as wall-clock time in `tz`."""
    if not value:
        return ""
    if isinstance(value, str):
        if "T" in value:
            return local_time(value, tz)
        value = date.fromisoformat(value)
    return f"{value:%a %d %b %Y}"


def label(value: str) -> str:
    return str(value).replace("_", " ").capitalize()


env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,  # every value is escaped unless a template says otherwise (none does)
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(money=money, local_time=local_time, day=day, label=label)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    visitor: Visitor | None = getattr(request.state, "_web_visitor", None)
    page = env.get_template(template).render(
        request=request,
        visitor=visitor,
        csrf_field=CSRF_FIELD,
        csrf_header=CSRF_HEADER,
        csrf_token=visitor.csrf_token if visitor else "",
        path=request.url.path,
        **(context or {}),
    )
    response = HTMLResponse(page, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    if visitor is not None:
        visitor.finish(response)
    return response
