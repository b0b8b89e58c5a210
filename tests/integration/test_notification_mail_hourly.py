"""An hourly booking's mail shows its times on the listing's wall clock: a court in New York
booked 16:00-18:00 UTC reads "12:00 PM" (EDT), not the UTC hour nor the reader's zone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from infrastructure.views_db import create_views_engine
from tests.builders import NOW
from tests.integration.test_notification_mail import Mailing, smtp_transport
from tests.notification_builders import SmtpServer, notify_world

NEW_YORK = {
    "address": "1 Court St",
    "city": "New York",
    "country": "US",
    "lat": 40.6930,
    "lng": -73.9900,
    "timezone": "America/New_York",
}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}")
    yield engine
    engine.dispose()


def test_an_hourly_check_in_is_rendered_in_the_listings_time_zone(engine: Engine) -> None:
    with SmtpServer() as smtp:
        m = Mailing(notify_world(engine), smtp_transport(smtp))
        listing = m.nw.world.active_listing(category="court", location=NEW_YORK)
        booking_id, _ = m.nw.world.bookings.place(
            m.nw.renter,
            listing,
            start="2026-06-10T16:00:00+00:00",
            end="2026-06-10T18:00:00+00:00",
            quantity=1,
            guests=1,
            at=NOW,
        )
        m.nw.confirm(booking_id)
        m.dispatch()
        (mail,) = smtp.inbox.to(m.email_of(m.nw.renter.id))

    row = next(r for r in m.nw.rows() if r["kind"] == "booking_confirmed")
    assert row["data"]["timezone"] == "America/New_York"
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    noon, two = "Jun 10, 2026, 12:00:00\u202fPM", "Jun 10, 2026, 2:00:00\u202fPM"
    assert f"for {noon} \u2013 {two} is confirmed" in text, text  # 16:00-18:00 UTC in EDT (UTC-4)
    assert f"Check-in: {noon}." in text
    assert "4:00:00" not in text and "16:00" not in text
    assert "12:00:00\u202fPM" in html
