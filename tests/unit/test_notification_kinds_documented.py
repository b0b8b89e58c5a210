"""Every notification kind is documented where API users look: the README's table of kinds
and the OpenAPI descriptions of the notification and preference schemas."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from domain.notifications import KINDS, SECURITY_KINDS
from interfaces.http.notification_schemas import (
    NotificationPublic,
    PreferenceChange,
    PreferencePublic,
)

README = Path(__file__).resolve().parents[2] / "README.md"


def notifications_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Notifications and email")
    return text[start : text.index("\n## ", start + 1)]


@pytest.mark.parametrize("kind", KINDS)
def test_the_readme_names_each_kind(kind: str) -> None:
    assert f"`{kind}`" in notifications_section()


def test_the_readme_table_has_a_row_for_each_kind_a_notification_can_have() -> None:
    table = notifications_section().split("| kind | to | when |\n")[1].split("\n\n")[0]
    rows = table.splitlines()[1:]  # past the header's rule
    named = {part.strip(" `") for row in rows for part in row.split("|")[1].split("/")}
    assert named == set(KINDS) - set(SECURITY_KINDS)


@pytest.mark.parametrize("schema", [NotificationPublic, PreferencePublic, PreferenceChange])
def test_the_openapi_description_of_kind_lists_every_kind(schema: type[BaseModel]) -> None:
    description = schema.model_json_schema()["properties"]["kind"]["description"]
    listed = description.removeprefix("One of: ").split(", ")
    assert listed == list(KINDS)
