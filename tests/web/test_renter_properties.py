"""Properties of the renter pages: any message text is shown escaped in a thread, a
notification only ever links inside the site, and the save heart toggles: after n taps a
listing's saved state has flipped exactly when n is odd (also when other lists held it)."""

from __future__ import annotations

import html
from typing import Any
from uuid import uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interfaces.web.notifications import link_of
from interfaces.web.templating import env
from tests.web.helpers import API, Api, browser_login, publish_listing, wait_views


@given(st.text(min_size=1))
def test_any_message_text_is_shown_escaped(text: str) -> None:
    message = {"sender_id": "a", "position": 1, "posted_at": "2027-01-01T00:00:00Z", "text": text}
    page = env.get_template("_thread.html").render(
        conversation={"id": uuid4()}, messages=[message], me="a", with_role="host"
    )
    body = page[page.index("</p>\n    <p>") + len("</p>\n    <p>") :]
    body = body[: body.index("</p>")]
    assert "<" not in body and html.unescape(body) == text


ids = st.one_of(st.none(), st.uuids().map(str))


@given(
    st.fixed_dictionaries(
        {}, optional={"conversation_id": ids, "booking_id": ids, "listing_id": ids}
    )
)
def test_a_notification_links_only_inside_the_site(data: dict[str, Any]) -> None:
    link = link_of(data)
    assert link == "" or (link.startswith("/") and not link.startswith("//"))
    assert (link == "") == (not any(data.values()))


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(taps=st.integers(min_value=1, max_value=4), extra_list=st.booleans())
def test_after_n_taps_a_listing_is_saved_exactly_when_n_is_odd(
    api: Api, taps: int, extra_list: bool
) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner)
    wait_views(api, position)
    renter = api.new_user()
    if extra_list:  # already in a list of theirs made through the API
        r = api.client.post(f"{API}/me/wishlists", json={"name": "Old"}, headers=renter.headers)
        wid = r.json()["id"]
        r = api.client.put(
            f"{API}/me/wishlists/{wid}/listings/{listing_id}", headers=renter.headers
        )
        assert r.status_code == 200, r.text
        wait_views(api, r.headers["X-Rentbook-Position"])
    token = browser_login(api.client, renter.email)
    for _ in range(taps):
        r = api.client.post(
            f"/listings/{listing_id}/save", data={"csrf_token": token}, headers={"HX-Request": "1"}
        )
        assert r.status_code == 200, r.text
    expected = (taps % 2 == 1) != extra_list
    lists = api.client.get(f"{API}/me/wishlists", headers=renter.headers).json()["data"]
    held = any(item["listing_id"] == listing_id for w in lists for item in w["listings"])
    assert held == expected
    assert f'aria-pressed="{str(expected).lower()}"' in r.text
