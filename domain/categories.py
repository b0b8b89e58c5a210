"""Per-category attributes of a listing, validated with pydantic (pure, no I/O)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.errors import RuleViolation

CATEGORIES = ("stay", "vehicle", "equipment", "space", "court", "other")


class _Attrs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StayAttrs(_Attrs):
    property_type: Literal["apartment", "house", "room", "cabin", "villa", "hotel_room", "other"]
    bedrooms: int = Field(ge=0, le=100)
    beds: int = Field(ge=1, le=200)
    bathrooms: float = Field(ge=0, le=100, multiple_of=0.5)


class VehicleAttrs(_Attrs):
    make: str = Field(min_length=1, max_length=60)
    model: str = Field(min_length=1, max_length=60)
    year: int = Field(ge=1900, le=2100)
    seats: int = Field(ge=1, le=100)
    transmission: Literal["manual", "automatic"]
    fuel: Literal["petrol", "diesel", "electric", "hybrid", "other"]


class EquipmentAttrs(_Attrs):
    brand: str = Field(min_length=1, max_length=60)
    condition: Literal["new", "like_new", "good", "fair"]


class SpaceAttrs(_Attrs):
    area_m2: float = Field(gt=0, le=1_000_000)
    kind: Literal["office", "meeting_room", "studio", "event_hall", "parking", "storage", "other"]


class CourtAttrs(_Attrs):
    sport: Literal["tennis", "padel", "football_5x5", "basketball", "other"]
    surface: Literal["clay", "hard", "grass", "artificial_grass", "wood", "concrete", "other"]
    indoor: bool


class OtherAttrs(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


ATTRIBUTE_MODELS: dict[str, type[BaseModel]] = {
    "stay": StayAttrs,
    "vehicle": VehicleAttrs,
    "equipment": EquipmentAttrs,
    "space": SpaceAttrs,
    "court": CourtAttrs,
    "other": OtherAttrs,
}


def validate_category_data(category: str, data: dict[str, Any]) -> dict[str, Any]:
    """Returns the normalised attributes or raises RuleViolation naming each bad field."""
    model = ATTRIBUTE_MODELS.get(category)
    if model is None:
        raise RuleViolation("bad_category", f"category must be one of {', '.join(CATEGORIES)}")
    try:
        return model.model_validate(data).model_dump(mode="json")
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or category}: {err['msg']}"
            for err in e.errors()
        )
        raise RuleViolation("bad_category_data", f"{category}: {problems}") from None
