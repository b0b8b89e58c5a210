"""Per-category review ratings in the web app over HTTP: the review form offers the categories
the viewer's side rates (the renter rates the stay, the owner the guest), refuses a rating
outside 1-5 next to its group with the input kept, and once both reviews are published the
listing page and the profile pages show the per-category averages."""

from __future__ import annotations

import re

from tests.http.test_disputes_http import EndedFactory, ended  # noqa: F401 - the fixture
from tests.web.helpers import API, browser_login


def _groups(html: str) -> list[str]:
    return re.findall(r'name="category_(\w+)" value="1"', html)


def test_reviews_rate_each_sides_categories_and_pages_show_the_averages(
    ended: EndedFactory,  # noqa: F811
) -> None:
    e = ended()
    client = e.api.client
    url = f"/trips/{e.id}/review"
    stranger = e.api.register()
    token = browser_login(client, stranger["email"])
    assert client.post(url, data={"csrf_token": token, "rating": "5"}).status_code == 404

    token = browser_login(client, e.m.renter.email)
    page = client.get(url)
    assert _groups(page.text) == [
        "cleanliness", "accuracy", "communication", "location", "check_in", "value",
    ]  # fmt: skip
    assert 'role="radiogroup"' in page.text
    form = {"csrf_token": token, "rating": "5", "comment": "Lovely", "category_cleanliness": "5"}
    r = client.post(url, data=form | {"category_value": "6"})
    assert r.status_code == 422 and 'id="e-category_value"' in r.text
    assert re.search(r'name="category_cleanliness" value="5" checked', r.text)
    assert ">Lovely</textarea>" in r.text
    assert client.post(url, data=form | {"csrf_token": ""}).status_code == 403
    r = client.post(url, data=form | {"category_value": "3"})
    assert r.status_code == 200 and "Cleanliness 5/5 · Value 3/5" in r.text

    token = browser_login(client, e.m.owner.email)
    page = client.get(url)
    assert _groups(page.text) == ["communication", "care", "rules"]
    owner_form = {"csrf_token": token, "rating": "4", "comment": "Tidy guest"}
    r = client.post(url, data=owner_form | {"category_care": "4", "category_rules": "2"})
    assert r.status_code == 200, r.text
    reviews = client.get(f"{API}/bookings/{e.id}/reviews", headers=e.m.owner.headers).json()
    assert {x["status"] for x in reviews["reviews"]} == {"published"}

    wait = {"X-Rentbook-Min-Position": str(e.api.container.store.current_position())}
    assert client.get(f"{API}/users/{e.m.owner.id}", headers=wait).status_code == 200
    listing = client.get(f"/listings/{e.m.listing_id}")
    assert re.search(r'data-category="cleanliness"><th scope="row">Cleanliness</th>'
                     r'<td class="num">5.0 / 5', listing.text)  # fmt: skip
    assert 'data-category="value"' in listing.text and f'href="/users/{e.m.owner.id}"' in (
        listing.text
    )
    owner_page = client.get(f"/users/{e.m.owner.id}")
    assert owner_page.status_code == 200 and 'data-category="cleanliness"' in owner_page.text
    renter_page = client.get(f"/users/{e.m.renter.id}")
    assert 'data-category="care"' in renter_page.text and "2.0 / 5" in renter_page.text
    assert 'data-category="cleanliness"' not in renter_page.text
    assert client.get(f"/users/{e.id}").status_code == 404  # a booking id is no user
