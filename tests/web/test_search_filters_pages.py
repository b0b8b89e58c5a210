"""The public search page's sort, amenity facets and price filters, server-rendered: the
results come in the order asked, the facets count what matches, the filters narrow it and the
page keeps what was chosen."""

from __future__ import annotations

import re

import pytest

from tests.web.helpers import Api, publish_listing, wait_views

TITLE = re.compile(r'<h3><a href="/listings/[^"]+">([^<]+)</a></h3>')


def _eur(amount: int) -> dict[str, dict[str, object]]:
    return {"base": {"amount": amount, "currency": "EUR"}}


@pytest.fixture
def quokkas(api: Api) -> Api:
    """Four listings found by "quokka": three stays and a van, at four prices."""
    owner = api.new_user()
    stays = (("loft", 8_000, ["wifi", "kitchen"]), ("house", 12_000, ["wifi", "parking"]),
             ("villa", 20_000, ["wifi", "kitchen", "parking"]))  # fmt: skip
    for name, price, kit in stays:
        publish_listing(api, owner, title=f"Quokka {name}", pricing=_eur(price), amenities=kit)
    _, position = publish_listing(
        api, owner, title="Quokka van", category="vehicle", pricing=_eur(6_000), amenities=["gps"]
    )
    wait_views(api, position)
    return api


def _titles(api: Api, query: str) -> tuple[list[str], str]:
    r = api.client.get(f"/?{query}")
    assert r.status_code == 200, r.text
    return [t.removeprefix("Quokka ") for t in TITLE.findall(r.text)], r.text


def test_sort_orders_the_results_by_price(quokkas: Api) -> None:
    up, page = _titles(quokkas, "q=quokka&sort=price_asc")
    assert up == ["van", "loft", "house", "villa"]
    assert '<option value="price_asc" selected>' in page  # the chosen sort stays chosen
    down, _ = _titles(quokkas, "q=quokka&sort=price_desc")
    assert down == ["villa", "house", "loft", "van"]


def test_facets_count_categories_and_amenities_of_the_matches(quokkas: Api) -> None:
    found, page = _titles(quokkas, "q=quokka")
    assert sorted(found) == ["house", "loft", "van", "villa"]
    assert 'id="result-count">4 results' in page
    assert '<option value="stay" >Stay (3)</option>' in page
    assert '<option value="vehicle" >Vehicle (1)</option>' in page
    for name, count in (("wifi", 3), ("kitchen", 2), ("parking", 2), ("gps", 1)):
        assert f'name="amenities" value="{name}" > {name.capitalize()} ({count})</label>' in page


def test_amenity_filters_narrow_the_results_and_stay_checked(quokkas: Api) -> None:
    kitchen, page = _titles(quokkas, "q=quokka&amenities=kitchen&sort=price_desc")
    assert kitchen == ["villa", "loft"]
    assert 'name="amenities" value="kitchen" checked> Kitchen (2)</label>' in page
    assert 'name="amenities" value="parking" > Parking (1)</label>' in page  # of the two
    both, page = _titles(quokkas, "q=quokka&amenities=kitchen&amenities=parking")
    assert both == ["villa"]
    assert 'id="result-count">1 result<' in page


def test_price_filters_keep_the_range_in_major_units(quokkas: Api) -> None:
    middle, page = _titles(quokkas, "q=quokka&min_price=100&max_price=150")
    assert middle == ["house"]
    assert 'name="min_price" type="number" value="100"' in page  # the form keeps them
    assert 'name="max_price" type="number" value="150"' in page
    above, _ = _titles(quokkas, "q=quokka&min_price=70&sort=price_asc")
    assert above == ["loft", "house", "villa"]
    below, _ = _titles(quokkas, "q=quokka&max_price=90&sort=price_asc")
    assert below == ["van", "loft"]
    bad = quokkas.client.get("/?q=quokka&min_price=cheap")
    assert bad.status_code == 200 and 'id="e-min_price"' in bad.text
    assert TITLE.findall(bad.text) == []  # no search on a field the page asks to fix
