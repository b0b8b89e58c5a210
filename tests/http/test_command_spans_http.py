"""The `command <operation>` span (interfaces/http/telemetry.py) is no `yield` dependency:
a command's span is still the server span's child, spans what the command stores, and
names the error a refused command raised; a read makes none."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.http.conftest import API, Api
from tests.http.test_bookings_http import Market, open_listing
from tests.observability import recorded_spans


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    with recorded_spans() as spans:
        yield spans


def _market(api: Api) -> Market:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    return Market(api, owner, admin, renter, open_listing(api, owner, admin))


def test_a_commands_span_encloses_what_it_stores(api: Api, exporter: InMemorySpanExporter) -> None:
    market = _market(api)
    exporter.clear()
    assert market.book().status_code == 201
    spans = exporter.get_finished_spans()
    (command,) = [s for s in spans if s.name == "command place_booking"]
    (http,) = [s for s in spans if s.name == "POST /api/v1/bookings"]
    assert command.parent is not None and command.parent.span_id == http.context.span_id
    stored = [s for s in spans if s.name.startswith("store.record")]
    assert stored
    assert all(s.parent is not None and s.parent.span_id == command.context.span_id for s in stored)
    assert command.attributes is not None and command.attributes["rentbook.command"] == (
        "place_booking"
    )


def test_a_refused_commands_span_names_the_error(api: Api, exporter: InMemorySpanExporter) -> None:
    market = _market(api)
    market.placed(30, 32)
    exporter.clear()
    assert market.book(30, 32).status_code == 409  # the nights are taken
    (command,) = [s for s in exporter.get_finished_spans() if s.name == "command place_booking"]
    assert command.attributes is not None
    assert command.attributes["rentbook.error"] == "UnavailableError"


def test_a_read_makes_no_command_span(api: Api, exporter: InMemorySpanExporter) -> None:
    auth = api.new_user()
    exporter.clear()
    assert api.client.get(f"{API}/users/me", headers=auth.headers).status_code == 200
    names = [s.name for s in exporter.get_finished_spans()]
    assert "GET /api/v1/users/me" in names
    assert not [n for n in names if n.startswith("command ")]
