"""Disputes in the web app over HTTP: the booking page's dispute form takes what the API takes
(claimed amount in the booking's currency, evidence links, photos, cited report items) and
keeps the input on refusals; an admin asks a party a question, that party answers it on their
booking page, and both pages show the timeline; non-parties and missing CSRF are refused."""

from __future__ import annotations

import re
from typing import Any

from domain.money import minor_units
from tests.http.test_disputes_http import Ended, EndedFactory, ended  # noqa: F401 - fixture
from tests.image_files import jpeg
from tests.web.helpers import API, browser_login, csrf_of


def _form(token: str, **fields: Any) -> dict[str, Any]:
    return {"csrf_token": token, "type": "damage", "description": "Broken lamp"} | fields


def _dispute(e: Ended) -> dict[str, Any]:
    found = e.api.client.get(f"{API}/admin/disputes", params={"booking_id": e.id},
                             headers=e.m.admin.headers).json()["data"]  # fmt: skip
    assert len(found) == 1, found
    body: dict[str, Any] = e.api.client.get(
        f"{API}/disputes/{found[0]['id']}", headers=e.m.admin.headers
    ).json()
    return body


def test_the_dispute_form_checks_amounts_and_evidence_and_keeps_the_input(
    ended: EndedFactory,  # noqa: F811
) -> None:
    e = ended()
    client = e.api.client
    token = browser_login(client, e.m.renter.email)
    page = client.get(f"/trips/{e.id}/dispute")
    assert page.status_code == 200 and "Amount you claim, in EUR" in page.text
    url = f"/trips/{e.id}/dispute"
    for amount in ("-5", "0", "12.345", "abc", "1e5", "99999999999999999"):
        r = client.post(url, data=_form(token, claimed_amount=amount, evidence="https://x.io/a"))
        assert r.status_code == 422, amount
        assert 'id="e-claimed_amount"' in r.text and f'value="{amount}"' in r.text
        assert "https://x.io/a" in r.text and "Broken lamp" in r.text
    r = client.post(url, data=_form(token, evidence="ftp://nope"))
    assert r.status_code == 422 and 'id="e-evidence"' in r.text and "ftp://nope" in r.text
    r = client.post(url, data=_form(token, cited_items="Sofa"))
    assert r.status_code == 422 and 'id="e-cited_items"' in r.text  # no report has a sofa
    r = client.post(url, data=_form(token, photo_ids="not-an-id"))
    assert r.status_code == 422 and 'id="e-photos"' in r.text
    assert client.post(url, data=_form("", claimed_amount="150")).status_code == 403
    assert e.booking_status() == "awaiting_return_inspection"  # nothing was opened

    r = client.post(
        url,
        data=_form(token, claimed_amount="150.50", evidence="https://x.io/a\n\nhttps://x.io/b"),
        files={"new_photos": ("lamp.jpg", jpeg(), "image/jpeg")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    dispute = _dispute(e)
    assert dispute["claimed_amount"] == {"amount": 15050, "currency": "EUR"}
    assert [x["url"] for x in dispute["evidence"]] == ["https://x.io/a", "https://x.io/b"]
    assert len(dispute["photo_ids"]) == 1 and dispute["opener_role"] == "renter"
    trip = client.get(f"/trips/{e.id}")
    assert f'data-dispute="{dispute["id"]}"' in trip.text and "€150.50" in trip.text
    assert 'data-kind="claim"' in trip.text
    assert f'src="/api/v1/media/{dispute["photo_ids"][0]}/thumb"' in trip.text
    assert "/respond" not in trip.text  # the opener adds information only when asked


def test_an_information_request_is_answered_on_the_booking_page(
    ended: EndedFactory,  # noqa: F811
) -> None:
    e = ended()
    client = e.api.client
    dispute = e.opened()
    ask_url = f"/admin/disputes/{dispute['id']}/request-information"
    question = {"to": "owner", "question": "Do you have a photo of the lamp?", "due_in": "48"}

    stranger = e.api.register()
    token = browser_login(client, stranger["email"])
    assert client.post(ask_url, data={"csrf_token": token, **question}).status_code == 403
    assert client.get(f"/trips/{e.id}").status_code == 404
    respond = f"/trips/{e.id}/disputes/{dispute['id']}/respond"
    assert client.post(respond, data={"csrf_token": token, "message": "me"}).status_code == 404

    token = browser_login(client, e.m.admin.email)
    r = client.post(ask_url, data={"csrf_token": token, "question": "", "due_in": "5"})
    assert r.status_code == 422
    assert all(f'id="e-{f}"' in r.text for f in ("to", "question", "due_in"))
    assert client.post(ask_url, data=question).status_code == 403  # no CSRF
    r = client.post(ask_url, data={"csrf_token": token, **question})
    assert r.status_code == 200 and 'data-kind="information_request"' in r.text
    assert 'id="waiting">Waiting for: the owner' in r.text

    token = browser_login(client, e.m.renter.email)  # the opener was not asked
    trip = client.get(f"/trips/{e.id}")
    assert "Do you have a photo of the lamp?" in trip.text and "An admin asks you" not in trip.text
    r = client.post(respond, data={"csrf_token": token, "message": "Me too"})
    assert r.status_code == 403 and 'role="alert"' in r.text

    token = browser_login(client, e.m.owner.email)
    trip = client.get(f"/trips/{e.id}")
    assert "An admin asks you" in trip.text and f'action="{respond}"' in trip.text
    r = client.post(respond, data={"csrf_token": token, "message": "", "evidence": "x"})
    assert r.status_code == 422 and re.search(r'id="e-message-[^"]+"', r.text)
    assert ">x</textarea>" in r.text  # kept
    assert client.post(respond, data={"message": "Here"}).status_code == 403
    r = client.post(
        respond,
        data={"csrf_token": token, "message": "Yes, attached.", "evidence": "https://x.io/l"},
    )
    assert r.status_code == 200 and 'data-kind="answer"' in r.text
    assert "An admin asks you" not in r.text
    seen = e.api.client.get(f"{API}/disputes/{dispute['id']}", headers=e.m.admin.headers).json()
    assert seen["status"] == "under_review" and seen["information_requests"][0]["answered"]

    browser_login(client, e.m.admin.email)
    page = client.get(f"/admin/disputes/{dispute['id']}")
    kinds = re.findall(r'data-kind="(\w+)"', page.text)
    assert kinds == ["claim", "information_request", "answer"], kinds
    assert "Yes, attached." in page.text and "https://x.io/l" in page.text
    r = e.m.post(f"/disputes/{dispute['id']}/withdraw", e.m.renter, {"reason": "Sorted out"})
    assert r.status_code == 200, r.text
    r = client.post(ask_url, data={"csrf_token": csrf_of(page.text), **question})
    assert r.status_code == 409 and 'role="alert"' in r.text  # nothing to ask any more
    assert 'data-kind="withdrawal"' in r.text


def test_amounts_are_read_in_the_currencys_units_within_the_apis_bound() -> None:
    assert minor_units("150.5", "EUR") == 15050 and minor_units("150", "EUR") == 15000
    assert minor_units("1500", "JPY") == 1500 and minor_units("1500.5", "JPY") is None
    assert minor_units("100000000000", "EUR") == 10**13  # the API's MoneyIn bound
    for text in ("100000000000.01", "-1", "1,5", " 1", "1.", ".5", "١٢"):
        assert minor_units(text, "EUR") is None, text


def test_the_owner_claims_from_the_booking_page_and_the_renter_responds(
    ended: EndedFactory,  # noqa: F811
) -> None:
    e = ended()
    client = e.api.client
    token = browser_login(client, e.m.owner.email)
    r = client.post(
        f"/trips/{e.id}/dispute",
        data=_form(token, claimed_amount="200"),
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    dispute = _dispute(e)
    assert dispute["opener_role"] == "owner"
    assert dispute["claimed_amount"] == {"amount": 20000, "currency": "EUR"}

    token = browser_login(client, e.m.renter.email)
    respond = f"/trips/{e.id}/disputes/{dispute['id']}/respond"
    trip = client.get(f"/trips/{e.id}")
    assert f'action="{respond}"' in trip.text and "Your response to the claim" in trip.text
    r = client.post(respond, data={"csrf_token": token, "message": "It was broken before."})
    assert r.status_code == 200 and 'data-kind="response"' in r.text
    assert "It was broken before." in r.text
