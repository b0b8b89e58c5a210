"""Who reads a conversation: its two parties; nobody else (404, ids cannot be probed); an
admin only while a dispute on its booking is open (403 `no_open_dispute` before and after),
and every such admin read is in the audit log under the admin's id."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from httpx import Response

from tests.conversation_builders import Chat, booking_conversation
from tests.http.conftest import API, Api, Auth
from tests.http.test_bookings_http import code
from tests.http.test_disputes_http import DISPUTE
from tests.http.test_reviews_http import new_stay

READS = ("/conversations/{id}", "/conversations/{id}/messages")


def reads(chat: Chat, auth: Auth, cid: str) -> list[Response]:
    return [chat.get(auth, path.format(id=cid)) for path in READS]


def statuses(chat: Chat, auth: Auth, cid: str) -> list[tuple[int, str | None]]:
    out: list[tuple[int, str | None]] = []
    for r in reads(chat, auth, cid):
        problem = r.headers["content-type"] == "application/problem+json"
        out.append((r.status_code, code(r) if problem else None))
    return out


def admin_reads(chat: Chat, admin: Auth) -> list[dict[str, Any]]:
    r = chat.get(admin, "/admin/audit", type="Conversation.AdminRead", actor=admin.id)
    assert r.status_code == 200, r.text
    data: list[dict[str, Any]] = r.json()["data"]
    return data


def test_the_conversation_access_matrix_follows_the_dispute(api: Api) -> None:
    stay = new_stay(api)
    chat = Chat(stay.m)
    m = chat.m
    cid = booking_conversation({"id": stay.booking_id})
    chat.wrote(m.renter, cid, "The key is under the mat.")
    inquiry = chat.inquired()["id"]
    stranger = api.new_user()
    Seen = list[tuple[int, str | None]]
    ok: Seen = [(200, None)] * 2
    hidden: Seen = [(404, "conversation_not_found")] * 2
    no_dispute: Seen = [(403, "no_open_dispute")] * 2

    def matrix(admin: list[tuple[int, str | None]]) -> None:
        for party in (m.renter, m.owner):
            assert statuses(chat, party, cid) == ok
            assert statuses(chat, party, inquiry) == ok
        assert statuses(chat, stranger, cid) == hidden
        assert statuses(chat, stranger, inquiry) == hidden
        assert statuses(chat, m.admin, cid) == admin
        assert statuses(chat, m.admin, inquiry) == no_dispute  # inquiries have no dispute
        assert statuses(chat, m.admin, str(uuid4())) == hidden

    matrix(no_dispute)
    assert admin_reads(chat, m.admin) == []

    r = m.post(f"/bookings/{stay.booking_id}/disputes", m.renter, DISPUTE)
    assert r.status_code == 201, r.text
    dispute_id = r.json()["id"]
    matrix(ok)
    (message,) = [msg["text"] for msg in reads(chat, m.admin, cid)[1].json()["data"]]
    assert message == "The key is under the mat."
    audited = admin_reads(chat, m.admin)
    # Each of the four admin reads so far (two in the matrix, two just now) is recorded.
    assert len(audited) == 4 and {a["stream_id"] for a in audited} == {cid}
    assert {a["actor_role"] for a in audited} == {"admin"}

    r = m.post(
        f"/admin/disputes/{dispute_id}/resolve",
        m.admin,
        {"outcome": "rejected", "note": "No damage found."},
    )
    assert r.status_code == 200, r.text
    matrix(no_dispute)
    assert len(admin_reads(chat, m.admin)) == 4  # refused reads record nothing


def test_only_the_parties_write_and_mark_read(api: Api) -> None:
    stay = new_stay(api)
    chat = Chat(stay.m)
    m = chat.m
    cid = booking_conversation({"id": stay.booking_id})
    chat.wrote(m.owner, cid, "Thanks for staying.")
    r = m.post(f"/bookings/{stay.booking_id}/disputes", m.renter, DISPUTE)
    assert r.status_code == 201, r.text
    for outsider in (api.new_user(), m.admin):  # an admin reads under dispute, never writes
        r = chat.write(outsider, cid, "hello")
        assert r.status_code == 404 and code(r) == "conversation_not_found", r.text
        r = chat.mark(outsider, cid, 1)
        assert r.status_code == 404 and code(r) == "conversation_not_found", r.text
    assert chat.mark(m.renter, cid, 1).status_code == 200
    r = api.client.get(f"{API}/conversations")
    assert r.status_code == 401
