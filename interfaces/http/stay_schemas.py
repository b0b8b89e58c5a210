"""Check-in / check-out request and response schemas (condition reports)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from domain.stay import MAX_ITEMS, MAX_NAME, MAX_NOTE, MAX_PHOTOS_PER_ITEM
from interfaces.http.schemas_common import SafeStr, Schema

ItemStatus = Literal["ok", "damaged", "missing"]
Side = Literal["renter", "owner"]
MEDIA_URL = "/api/v1/media/{id}/display"


class ReportItemIn(Schema):
    name: SafeStr = Field(
        min_length=1, max_length=MAX_NAME, description="Unique within the report", examples=["Sofa"]
    )
    status: ItemStatus
    note: SafeStr = Field(default="", max_length=MAX_NOTE)
    photo_ids: list[UUID] = Field(
        default_factory=list,
        max_length=MAX_PHOTOS_PER_ITEM,
        description="Media ids of photos the reporter uploaded",
    )


class ConditionReportIn(Schema):
    items: list[ReportItemIn] = Field(max_length=MAX_ITEMS)


class StayEventIn(Schema):
    """An optional condition report, as `report.items` or (API.md's spelling) `items`."""

    report: ConditionReportIn | None = None
    items: list[ReportItemIn] | None = Field(default=None, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _one_spelling(self) -> StayEventIn:
        if self.report is not None and self.items is not None:
            raise ValueError("send the items either as report.items or as items, not both")
        return self

    def report_items(self) -> list[dict[str, Any]] | None:
        items = self.report.items if self.report is not None else self.items
        return None if items is None else [i.model_dump(mode="json") for i in items]


class ReportItemPublic(BaseModel):
    name: str
    status: ItemStatus
    note: str
    photo_ids: list[UUID]
    photo_urls: list[str] = Field(description="Display-size URLs of the photos")


class ConditionReportPublic(BaseModel):
    items: list[ReportItemPublic]


class StayEventPublic(BaseModel):
    """One side's check-in or check-out."""

    by: UUID
    at: datetime
    report: ConditionReportPublic | None


def stay_events_public(records: dict[str, dict[str, Any]]) -> dict[str, StayEventPublic]:
    out: dict[str, StayEventPublic] = {}
    for side, record in records.items():
        report = record["report"]
        if report is not None:
            report = {
                "items": [
                    {**item, "photo_urls": [MEDIA_URL.format(id=p) for p in item["photo_ids"]]}
                    for item in report["items"]
                ]
            }
        out[side] = StayEventPublic.model_validate({**record, "report": report})
    return out
