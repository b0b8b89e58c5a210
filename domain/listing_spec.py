"""The owner-editable content of a listing, validated as a whole on create and on every edit."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from typing_extensions import TypeAliasType

from domain.categories import validate_category_data
from domain.errors import RuleViolation
from domain.periods import WEEKDAYS, validate_opening_hours, validate_timezone
from domain.policies import POLICIES
from domain.stay import DEFAULT_GRACE_HOURS, MAX_GRACE_HOURS

MAX_CATEGORY_DATA_DEPTH = 8
MAX_CATEGORY_DATA_CHARS = 10_000  # as compact JSON
MAX_PHOTOS = 20


def _safe_text(value: str) -> str:
    """No NUL or other control characters (PostgreSQL text refuses NUL); tabs and newlines ok."""
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("control characters are not allowed")
    return value


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    """Category data is free-form JSON for `other`: bound its depth and size, and refuse
    strings that cannot be stored (control characters, lone surrogates). Iterative, so deep
    input cannot exhaust the stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_CATEGORY_DATA_DEPTH:
            raise ValueError(f"nested deeper than {MAX_CATEGORY_DATA_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((k, depth) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str):
            _safe_text(item)
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("strings must be valid Unicode (no lone surrogates)") from None
    if len(json.dumps(value, separators=(",", ":"))) > MAX_CATEGORY_DATA_CHARS:
        raise ValueError(f"category data is at most {MAX_CATEGORY_DATA_CHARS} characters as JSON")
    return value


# A type alias (not a field validator, nor a bare Annotated whose metadata pydantic moves off
# the annotation) so that the all-optional PATCH model built from the fields' annotations
# bounds it too, before the endpoint serialises it.
CategoryData = TypeAliasType(
    "CategoryData", Annotated[dict[str, Any], AfterValidator(_bounded_json)]
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MoneyIn(_Strict):
    amount: int = Field(ge=0, le=100_000_000_00)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class Location(_Strict):
    address: str = Field(min_length=1, max_length=300)
    city: str = Field(min_length=1, max_length=120)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    timezone: str = Field(description="IANA time zone, e.g. Europe/Lisbon")

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return validate_timezone(v)

    _texts = field_validator("address", "city")(_safe_text)


class HourlyWindowIn(_Strict):
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(min_length=1)
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")
    multiplier: float = Field(gt=0, le=10)


class Pricing(_Strict):
    base: MoneyIn
    weekly_discount_pct: float = Field(default=0, ge=0, le=90)
    monthly_discount_pct: float = Field(default=0, ge=0, le=90)
    cleaning_fee: MoneyIn | None = None
    weekday_multipliers: dict[str, float] = Field(default_factory=dict)
    hourly_windows: list[HourlyWindowIn] = Field(default_factory=list)

    @field_validator("weekday_multipliers")
    @classmethod
    def _weekdays(cls, v: dict[str, float]) -> dict[str, float]:
        for day, mult in v.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
            if not 0 < mult <= 10:
                raise ValueError("multipliers must be in (0, 10]")
        return v


class ListingSpec(_Strict):
    title: str = Field(min_length=3, max_length=140)
    description: str = Field(default="", max_length=10_000)
    category: Literal["stay", "vehicle", "equipment", "space", "court", "other"]
    category_data: CategoryData = Field(default_factory=dict)
    location: Location
    booking_unit: Literal["night", "day", "hour"]
    pricing: Pricing
    quantity: int = Field(default=1, ge=1, le=10_000)
    capacity: int = Field(default=1, ge=1, le=10_000)
    amenities: list[str] = Field(default_factory=list, max_length=100)
    booking_mode: Literal["instant", "request"] = "instant"
    min_duration: int = Field(default=1, ge=1, le=1000)
    max_duration: int | None = Field(default=None, ge=1, le=1000)
    advance_notice_hours: int = Field(default=0, ge=0, le=24 * 365)
    booking_window_days: int = Field(default=365, ge=1, le=730)
    buffer_minutes: int = Field(default=0, ge=0, le=24 * 60)
    opening_hours: dict[str, list[list[str]]] = Field(default_factory=dict)
    cancellation_policy: Literal["flexible", "moderate", "strict", "non_refundable"] = "moderate"
    deposit: MoneyIn | None = None
    photos: list[UUID] = Field(
        default_factory=list,
        max_length=MAX_PHOTOS,
        description="Media ids (uploaded by the owner through POST /media), in display order",
    )
    cover_photo_id: UUID | None = Field(
        default=None, description="One of `photos`; defaults to the first"
    )
    check_in_grace_hours: int = Field(
        default=DEFAULT_GRACE_HOURS,
        ge=0,
        le=MAX_GRACE_HOURS,
        description="Check-in opens this many hours before the start",
    )
    check_out_grace_hours: int = Field(
        default=DEFAULT_GRACE_HOURS,
        ge=0,
        le=MAX_GRACE_HOURS,
        description="Check-out closes this many hours after the end",
    )

    _texts = field_validator("title", "description")(_safe_text)

    @model_validator(mode="after")
    def _cover(self) -> ListingSpec:
        if len(set(self.photos)) != len(self.photos):
            raise ValueError("photos: a photo appears twice")
        if self.cover_photo_id is None and self.photos:
            self.cover_photo_id = self.photos[0]
        if self.cover_photo_id is not None and self.cover_photo_id not in self.photos:
            raise ValueError("cover_photo_id must be one of photos")
        return self

    @field_validator("amenities")
    @classmethod
    def _amenities(cls, v: list[str]) -> list[str]:
        for amenity in v:
            _safe_text(amenity)
        cleaned = sorted({a.strip().lower().replace(" ", "_") for a in v if a.strip()})
        if any(len(a) > 60 for a in cleaned):
            raise ValueError("an amenity name is at most 60 characters")
        return cleaned

    @model_validator(mode="after")
    def _coherent(self) -> ListingSpec:
        self.category_data = validate_category_data(self.category, self.category_data)
        currency = self.pricing.base.currency
        for extra in (self.pricing.cleaning_fee, self.deposit):
            if extra is not None and extra.currency != currency:
                raise ValueError("cleaning fee and deposit must be in the base price's currency")
        if self.max_duration is not None and self.max_duration < self.min_duration:
            raise ValueError("max_duration must be at least min_duration")
        hourly_only = self.opening_hours or self.buffer_minutes or self.pricing.hourly_windows
        if self.booking_unit != "hour" and hourly_only:
            raise ValueError("opening_hours, buffer_minutes and hourly_windows are for hourly")
        self.opening_hours = validate_opening_hours(self.opening_hours)
        assert self.cancellation_policy in POLICIES
        return self


def validate_spec(data: dict[str, Any]) -> dict[str, Any]:
    """Validates a whole listing spec; returns its JSON form or raises RuleViolation."""
    try:
        return ListingSpec.model_validate(data).model_dump(mode="json")
    except RuleViolation:
        raise
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'listing'}: {err['msg']}"
            for err in e.errors()
        )
        raise RuleViolation("invalid_listing", problems) from None
