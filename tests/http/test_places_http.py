"""GET /places and /places/timezone on a minimal app: the router, problem handlers, a fake
`Places` (and once the shipped dataset)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from application.places import Place, Places
from infrastructure.places_offline import shared_places
from interfaces.http.places import router
from interfaces.http.problems import install_problem_handlers

LISBON = Place("Lisbon", "PT", 38.72509, -9.1498, "Europe/Lisbon", 517_802)
LISBURN = Place("Lisburn", "GB", 54.52337, -6.03527, "Europe/London", 71_465)


class TwoCities(Places):
    def __init__(self) -> None:
        self.asked: list[tuple[str, int, str | None]] = []

    def autocomplete(self, q: str, limit: int = 10, country: str | None = None) -> list[Place]:
        self.asked.append((q, limit, country))
        found = [p for p in (LISBON, LISBURN) if p.name.lower().startswith(q.lower())]
        return [p for p in found if country in (None, p.country)][:limit]

    def timezone_at(self, lat: float, lng: float) -> str | None:
        return None if abs(lat) < 1 else "Europe/Lisbon"

    def largest(self, limit: int, country: str | None = None) -> list[Place]:
        return [LISBON, LISBURN][:limit]


def client_for(places: Places) -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(router, prefix="/api/v1")
    app.state.container = SimpleNamespace(places=places)
    return TestClient(app)


@pytest.fixture
def places() -> TwoCities:
    return TwoCities()


@pytest.fixture
def client(places: TwoCities) -> TestClient:
    return client_for(places)


def test_places_suggests_cities_with_coordinates_and_zone(client: TestClient) -> None:
    r = client.get("/api/v1/places", params={"q": "lis"})
    assert r.status_code == 200
    assert r.json() == {
        "data": [
            {"name": "Lisbon", "country": "PT", "lat": 38.72509, "lng": -9.1498,
             "timezone": "Europe/Lisbon"},
            {"name": "Lisburn", "country": "GB", "lat": 54.52337, "lng": -6.03527,
             "timezone": "Europe/London"},
        ]
    }  # fmt: skip
    assert r.headers["cache-control"] == "public, max-age=86400"


def test_places_passes_limit_and_country_upper_cased(client: TestClient, places: TwoCities) -> None:
    r = client.get("/api/v1/places", params={"q": "lis", "limit": 1, "country": "gb"})
    assert [p["name"] for p in r.json()["data"]] == ["Lisburn"]
    assert places.asked == [("lis", 1, "GB")]


def test_places_without_a_match_is_an_empty_list(client: TestClient) -> None:
    assert client.get("/api/v1/places?q=zz").json() == {"data": []}


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?q=",
        "?q=l",
        "?q=%20l%20",
        "?q=" + "l" * 101,
        "?q=lis&limit=0",
        "?q=lis&limit=51",
        "?q=lis&country=PRT",
        "?q=lis&country=P1",
    ],
)
def test_places_refuses_bad_queries_as_problems(
    client: TestClient, places: TwoCities, query: str
) -> None:
    r = client.get("/api/v1/places" + query)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "validation_failed"
    assert body["errors"] and all(e["loc"][0] == "query" for e in body["errors"])
    assert places.asked == []


def test_timezone_at_a_point(client: TestClient) -> None:
    r = client.get("/api/v1/places/timezone", params={"lat": 38.72, "lng": -9.14})
    assert r.status_code == 200
    assert r.json() == {"timezone": "Europe/Lisbon"}


def test_timezone_at_sea_is_not_found(client: TestClient) -> None:
    r = client.get("/api/v1/places/timezone", params={"lat": 0, "lng": -30})
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "timezone_not_found"


@pytest.mark.parametrize(
    "query", ["", "?lat=10", "?lat=91&lng=0", "?lat=0&lng=-181", "?lat=nan&lng=0", "?lat=x&lng=0"]
)
def test_timezone_refuses_bad_coordinates(client: TestClient, query: str) -> None:
    r = client.get("/api/v1/places/timezone" + query)
    assert r.status_code == 422
    assert r.json()["code"] == "validation_failed"


def test_openapi_documents_both_routes_as_public(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    autocomplete, timezone = paths["/api/v1/places"]["get"], paths["/api/v1/places/timezone"]["get"]
    assert "Suggests real cities" in autocomplete["description"]
    assert "IANA time zone" in timezone["description"]
    assert "security" not in autocomplete and "security" not in timezone
    assert "404" in timezone["responses"]


def test_places_over_the_shipped_dataset() -> None:
    client = client_for(shared_places())  # the shipped dataset, built once per process
    first = client.get("/api/v1/places", params={"q": "lisb"}).json()["data"][0]
    assert first["name"] == "Lisbon" and first["timezone"] == "Europe/Lisbon"
    r = client.get("/api/v1/places/timezone", params={"lat": first["lat"], "lng": first["lng"]})
    assert r.json() == {"timezone": "Europe/Lisbon"}
