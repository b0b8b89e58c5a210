"""User and EmailIndex rules: given events, when a command, then events or an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.errors import RuleViolation
from domain.user import (
    EmailIndex,
    User,
    check_password_strength,
    email_index_id,
    normalize_email,
)

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ADMIN_ID = uuid4()


def registered(**overrides: object) -> User:
    fields: dict[str, object] = {
        "email": "Ada@Example.com",
        "name": "Ada Lovelace",
        "phone": None,
        "password_hash": "$argon2id$fake",
        "at": AT,
    }
    fields.update(overrides)
    return User.register(**fields)  # type: ignore[arg-type]


def new_event_names(user: User) -> list[str]:
    return [type(e).__name__ for e in user.collect_events()]


def test_registering_records_one_event_with_a_renter_role_and_lower_cased_email() -> None:
    user = registered()
    assert new_event_names(user) == ["Registered"]
    assert user.email == "ada@example.com"
    assert user.roles == ["renter"]
    assert user.status == "active"
    assert user.created_at == AT


@pytest.mark.parametrize("email", ["", "no-at-sign", "a@", "@b.com", "a b@c.com"])
def test_an_invalid_email_is_refused(email: str) -> None:
    with pytest.raises(RuleViolation) as exc:
        registered(email=email)
    assert exc.value.code == "invalid_email"


def test_emails_differing_in_case_and_spaces_share_one_index_id() -> None:
    assert email_index_id(" ADA@example.COM ") == email_index_id("ada@example.com")
    assert normalize_email(" ADA@example.COM ") == "ada@example.com"


def test_a_password_shorter_than_ten_characters_is_weak() -> None:
    with pytest.raises(RuleViolation) as exc:
        check_password_strength("123456789")
    assert exc.value.code == "weak_password"
    check_password_strength("1234567890")


def test_a_blank_name_or_a_malformed_phone_is_refused() -> None:
    with pytest.raises(RuleViolation, match="name"):
        registered(name="   ")
    with pytest.raises(RuleViolation) as exc:
        registered(phone="call me")
    assert exc.value.code == "invalid_phone"


def test_updating_the_profile_records_only_real_changes() -> None:
    user = registered(phone="+33 1 23 45 67 89")
    user.collect_events()
    user.update_profile(name="Ada Lovelace", at=AT)
    assert new_event_names(user) == []
    user.update_profile(name="Ada King", phone="", at=AT)
    assert new_event_names(user) == ["ProfileEdited"]
    assert (user.name, user.phone) == ("Ada King", None)


def test_granting_a_role_twice_records_it_once_and_keeps_roles_sorted() -> None:
    user = registered()
    user.collect_events()
    user.grant_role("owner", by=user.id, at=AT)
    user.grant_role("owner", by=user.id, at=AT)
    user.grant_role("admin", by=ADMIN_ID, at=AT)
    assert new_event_names(user) == ["RoleGranted", "RoleGranted"]
    assert user.roles == ["admin", "owner", "renter"]


def test_an_unknown_role_cannot_be_granted() -> None:
    with pytest.raises(RuleViolation) as exc:
        registered().grant_role("superuser", by=ADMIN_ID, at=AT)
    assert exc.value.code == "unknown_role"


def test_the_renter_role_cannot_be_revoked_but_others_can() -> None:
    user = registered()
    user.grant_role("owner", by=ADMIN_ID, at=AT)
    with pytest.raises(RuleViolation) as exc:
        user.revoke_role("renter", by=ADMIN_ID, at=AT)
    assert exc.value.code == "role_not_revocable"
    user.revoke_role("owner", by=ADMIN_ID, at=AT)
    assert user.roles == ["renter"]


def test_suspending_is_idempotent_and_reinstating_reactivates() -> None:
    user = registered()
    user.collect_events()
    user.suspend(by=ADMIN_ID, reason="fraud", at=AT)
    user.suspend(by=ADMIN_ID, reason="fraud", at=AT)
    assert not user.is_active
    user.reinstate(by=ADMIN_ID, at=AT)
    assert new_event_names(user) == ["Suspended", "Reinstated"]
    assert user.is_active


def test_a_lockout_is_recorded_with_its_end() -> None:
    user = registered()
    user.collect_events()
    user.record_lockout(until=AT + timedelta(minutes=15), at=AT)
    assert new_event_names(user) == ["LockedOut"]
    assert user.locked_until == AT + timedelta(minutes=15)
    with pytest.raises(RuleViolation):
        user.record_lockout(until=AT, at=AT)


def test_changing_the_password_hash_records_an_event() -> None:
    user = registered()
    user.collect_events()
    user.change_password_hash("$argon2id$other", at=AT)
    assert new_event_names(user) == ["PasswordChanged"]
    assert user.password_hash == "$argon2id$other"


def test_replaying_the_events_gives_the_same_state() -> None:
    user = registered()
    user.grant_role("owner", by=user.id, at=AT)
    user.update_profile(phone="0612345678", at=AT)
    events = user.collect_events()
    copy: User | None = None
    for e in events:
        copy = e.mutate(copy)
    assert copy is not None
    assert copy.__dict__ == user.__dict__


def test_the_email_index_id_is_derived_from_the_email() -> None:
    user_id = uuid4()
    index = EmailIndex(email="ada@example.com", user_id=user_id)
    assert index.id == email_index_id("ADA@example.com")
    assert index.user_id == user_id
