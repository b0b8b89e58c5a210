"""The notifications view names recipients by their text (one `str()` per id a page);
the id it derives must be the one the recipient's UUID gives."""

from __future__ import annotations

from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from domain.notifications import KINDS, notification_id


@given(st.uuids(), st.integers(min_value=1, max_value=10**6), st.uuids(), st.sampled_from(KINDS))
def test_a_recipient_named_by_its_text_gets_the_same_id(
    stream: UUID, version: int, recipient: UUID, kind: str
) -> None:
    source = f"{stream}:{version}"
    assert notification_id(source, str(recipient), kind) == notification_id(source, recipient, kind)
