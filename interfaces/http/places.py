"""Location help for listing forms: city autocomplete and the time zone at a point.

Public and read-only: the answers come from an offline dataset, not from the event store.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from application.places import Place, Places
from domain.errors import NotFoundError
from interfaces.http.schemas_common import problem_responses

router = APIRouter(tags=["places"])

MIN_QUERY_CHARS = 2
MAX_QUERY_CHARS = 100
CACHE_CONTROL = "public, max-age=86400"  # the dataset changes only with a release


def get_places(request: Request) -> Places:
    places: Places = request.app.state.container.places
    return places


PlacesDep = Annotated[Places, Depends(get_places)]


class PlacePublic(BaseModel):
    """A real city."""

    name: str = Field(examples=["Lisbon"])
    country: str = Field(description="ISO 3166-1 alpha-2", examples=["PT"])
    lat: float = Field(examples=[38.72509])
    lng: float = Field(examples=[-9.1498])
    timezone: str = Field(description="IANA time zone", examples=["Europe/Lisbon"])

    @classmethod
    def of(cls, place: Place) -> PlacePublic:
        return cls(
            name=place.name,
            country=place.country,
            lat=place.lat,
            lng=place.lng,
            timezone=place.timezone,
        )


class PlacesPublic(BaseModel):
    data: list[PlacePublic]


class TimezonePublic(BaseModel):
    timezone: str = Field(description="IANA time zone", examples=["Europe/Lisbon"])


@router.get("/places", response_model=PlacesPublic, responses=problem_responses(422))
def autocomplete_places(
    places: PlacesDep,
    response: Response,
    q: Annotated[
        str,
        Query(
            min_length=MIN_QUERY_CHARS,
            max_length=MAX_QUERY_CHARS,
            description="The start of a city's name, in any language",
            examples=["lisb"],
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    country: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2")
    ] = None,
) -> PlacesPublic:
    """Suggests real cities (of 15,000 people or more) for a listing's location as the owner
    types. `q` matches the start of a city's name or of one of its names in other languages
    ("Lisboa", "Wien"), ignoring case, accents and punctuation; whole-name matches and larger
    cities come first. Each suggestion carries the coordinates and IANA time zone to put in
    the listing's `location`. No session needed; answers may be cached for a day."""
    if len(q.strip()) < MIN_QUERY_CHARS:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "q"),
                    "msg": f"String should have at least {MIN_QUERY_CHARS} characters "
                    "besides spaces",
                    "type": "string_too_short",
                }
            ]
        )
    found = places.autocomplete(q, limit, country.upper() if country else None)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return PlacesPublic(data=[PlacePublic.of(place) for place in found])


@router.get(
    "/places/timezone", response_model=TimezonePublic, responses=problem_responses(404, 422)
)
def timezone_at(
    places: PlacesDep,
    response: Response,
    lat: Annotated[float, Query(ge=-90, le=90, examples=[38.7223])],
    lng: Annotated[float, Query(ge=-180, le=180, examples=[-9.1393])],
) -> TimezonePublic:
    """The IANA time zone at a point, for a listing whose owner placed a pin rather than
    picking a city. 404 `timezone_not_found` out at sea (territorial waters count as land).
    No session needed."""
    zone = places.timezone_at(lat, lng)
    if zone is None:
        raise NotFoundError("timezone_not_found", "no time zone is known at that point")
    response.headers["Cache-Control"] = CACHE_CONTROL
    return TimezonePublic(timezone=zone)
