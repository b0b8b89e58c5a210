"""Notification and outbox ids are uuid5, whatever the faster path that derives them."""

from __future__ import annotations

from uuid import UUID, uuid4, uuid5

from hypothesis import given
from hypothesis import strategies as st

from domain.notifications import _NAMESPACE, name_based, notification_id, outbox_id


@given(st.uuids(), st.text())
def test_name_based_ids_equal_uuid5_in_value_version_and_text(namespace: UUID, name: str) -> None:
    made, expected = name_based(namespace, name), uuid5(namespace, name)
    assert made == expected
    assert (str(made), made.version, made.variant, hash(made)) == (
        str(expected), expected.version, expected.variant, hash(expected),
    )  # fmt: skip
    assert made.is_safe == expected.is_safe


def test_notification_and_outbox_ids_are_the_uuid5_ids_stored_before() -> None:
    recipient = uuid4()
    source = f"{uuid4()}:3"
    expected = uuid5(_NAMESPACE, f"{source}|{recipient}|booking_confirmed")
    assert notification_id(source, recipient, "booking_confirmed") == expected
    assert outbox_id(expected) == uuid5(expected, "email")
