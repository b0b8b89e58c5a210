"""Conversations over HTTP: a market (owner, admin, renter, active listing) and the calls
the messaging tests make, each GET waiting until the views hold every event so far."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from httpx import Response

from domain.conversation import booking_conversation_id
from tests.http.conftest import API, Api, Auth
from tests.http.test_bookings_http import Market, open_listing


@dataclass
class Chat:
    m: Market

    @property
    def api(self) -> Api:
        return self.m.api

    def caught_up(self, auth: Auth) -> dict[str, str]:
        position = str(self.api.container.store.current_position())
        return auth.headers | {"X-Rentbook-Min-Position": position}

    def inquire(self, auth: Auth, text: str, **body: Any) -> Response:
        payload = {"listing_id": self.m.listing_id, "text": text, **body}
        return self.api.client.post(f"{API}/conversations", json=payload, headers=auth.headers)

    def inquired(self, text: str = "Is it free in June?") -> dict[str, Any]:
        r = self.inquire(self.m.renter, text)
        assert r.status_code in (200, 201), r.text
        body: dict[str, Any] = r.json()
        return body

    def write(self, auth: Auth, conversation_id: str, text: str, **body: Any) -> Response:
        return self.api.client.post(
            f"{API}/conversations/{conversation_id}/messages",
            json={"text": text, **body},
            headers=self.caught_up(auth),
        )

    def wrote(self, auth: Auth, conversation_id: str, text: str) -> dict[str, Any]:
        r = self.write(auth, conversation_id, text)
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    def get(self, auth: Auth, path: str, **params: Any) -> Response:
        return self.api.client.get(f"{API}{path}", params=params, headers=self.caught_up(auth))

    def listing_of(self, auth: Auth) -> list[dict[str, Any]]:
        r = self.get(auth, "/conversations")
        assert r.status_code == 200, r.text
        data: list[dict[str, Any]] = r.json()["data"]
        return data

    def messages(self, auth: Auth, conversation_id: str) -> list[dict[str, Any]]:
        r = self.get(auth, f"/conversations/{conversation_id}/messages", limit=100)
        assert r.status_code == 200, r.text
        data: list[dict[str, Any]] = r.json()["data"]
        return data

    def mark(self, auth: Auth, conversation_id: str, up_to: Any) -> Response:
        return self.api.client.post(
            f"{API}/conversations/{conversation_id}/read",
            json={"up_to": up_to},
            headers=self.caught_up(auth),
        )


def new_chat(api: Api) -> Chat:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    return Chat(Market(api, owner, admin, renter, open_listing(api, owner, admin)))


def booking_conversation(booking: dict[str, Any]) -> str:
    return str(booking_conversation_id(UUID(str(booking["id"]))))
