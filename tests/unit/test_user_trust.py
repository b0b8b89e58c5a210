"""Profiles, email verification and password reset on the User aggregate, and the rule that
only a verified owner submits a listing: given events, when a command, then events or an
error."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import ConflictError, RuleViolation
from domain.listing import Listing
from domain.profile import MAX_BIO_LENGTH
from domain.user import PASSWORD_RESET, VERIFY_EMAIL
from tests.builders import listing_spec
from tests.unit.test_user import ADMIN_ID, AT, new_event_names, registered

EXPIRES = AT.replace(hour=13)


def test_a_profile_edit_records_the_whole_new_profile_once() -> None:
    user = registered()
    user.collect_events()
    avatar = uuid4()
    user.update_profile(bio="  Loves boats.  ", languages=["EN", "pt", "en"], at=AT)
    user.update_profile(avatar_media_id=avatar, at=AT)
    [bio_edit, avatar_edit] = user.collect_events()
    assert (bio_edit.bio, bio_edit.languages, bio_edit.avatar_media_id) == (  # type: ignore[attr-defined]
        "Loves boats.",
        ["en", "pt"],
        None,
    )
    assert avatar_edit.avatar_media_id == avatar  # type: ignore[attr-defined]
    assert avatar_edit.name == "Ada Lovelace"  # type: ignore[attr-defined]
    user.update_profile(bio="Loves boats.", languages=["en", "pt"], at=AT)
    assert new_event_names(user) == []
    user.update_profile(avatar_media_id=None, at=AT)
    assert user.avatar_media_id is None


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"bio": "x" * (MAX_BIO_LENGTH + 1)}, "invalid_bio"),
        ({"languages": ["english"]}, "invalid_language"),
        ({"languages": ["xx"]}, "invalid_language"),
        (
            {
                "languages": ["en", "de", "fr", "pt", "es", "it", "nl", "sv", "da", "fi", "no"] * 2
                + ["pl", "cs", "sk", "hu", "ro", "bg", "el", "tr", "ru", "uk", "ja"]
            },
            "invalid_language",
        ),
        ({"name": "   "}, "invalid_name"),
    ],
)
def test_bad_profile_edits_are_refused_before_anything_is_recorded(
    change: dict[str, object], code: str
) -> None:
    user = registered()
    user.collect_events()
    with pytest.raises(RuleViolation) as refused:
        user.update_profile(at=AT, **change)  # type: ignore[arg-type]
    assert refused.value.code == code
    assert new_event_names(user) == []


def test_verifying_with_the_live_token_records_email_verified_and_consumes_it() -> None:
    user = registered()
    user.issue_token(VERIFY_EMAIL, "t1", EXPIRES, AT)
    user.verify_email("t1", AT)
    assert user.email_verified
    assert new_event_names(user)[-2:] == ["TokenIssued", "EmailVerified"]
    with pytest.raises(RuleViolation) as used:
        user.verify_email("t1", AT)
    assert used.value.code == "invalid_token"
    with pytest.raises(ConflictError) as done:
        user.issue_token(VERIFY_EMAIL, "t2", EXPIRES, AT)
    assert done.value.code == "email_already_verified"


def test_a_newer_token_supersedes_the_older_one_of_its_purpose_only() -> None:
    user = registered()
    user.issue_token(VERIFY_EMAIL, "old", EXPIRES, AT)
    user.issue_token(PASSWORD_RESET, "reset", EXPIRES, AT)
    user.issue_token(VERIFY_EMAIL, "new", EXPIRES, AT)
    user.collect_events()
    with pytest.raises(RuleViolation):
        user.verify_email("old", AT)
    with pytest.raises(RuleViolation):
        user.verify_email("reset", AT)  # a reset token's id is no verification token
    assert new_event_names(user) == []
    user.verify_email("new", AT)
    user.reset_password("reset", "$argon2id$new", AT)
    assert user.password_hash == "$argon2id$new"
    assert new_event_names(user) == ["EmailVerified", "PasswordReset"]


def test_a_reset_token_works_once_and_not_for_a_suspended_account() -> None:
    user = registered()
    user.issue_token(PASSWORD_RESET, "r1", EXPIRES, AT)
    user.reset_password("r1", "$argon2id$one", AT)
    with pytest.raises(RuleViolation):
        user.reset_password("r1", "$argon2id$two", AT)
    user.issue_token(PASSWORD_RESET, "r2", EXPIRES, AT)
    user.suspend(ADMIN_ID, "spam", AT)
    user.collect_events()
    with pytest.raises(RuleViolation):
        user.reset_password("r2", "$argon2id$two", AT)
    assert new_event_names(user) == [] and user.password_hash == "$argon2id$one"


def test_tokens_of_unknown_purposes_are_refused() -> None:
    user = registered()
    with pytest.raises(RuleViolation) as refused:
        user.issue_token("login", "t", EXPIRES, AT)
    assert refused.value.code == "unknown_token_purpose"


def test_marking_verified_without_a_token_is_idempotent() -> None:
    user = registered()
    user.collect_events()
    user.verify_email(None, AT)
    user.verify_email(None, AT)
    assert new_event_names(user) == ["EmailVerified"]


def test_an_unverified_owner_cannot_submit_a_listing() -> None:
    owner = uuid4()
    listing = Listing.create(owner, listing_spec(), AT)
    listing.collect_events()
    with pytest.raises(RuleViolation) as refused:
        listing.submit(owner, AT, owner_email_verified=False)
    assert refused.value.code == "email_not_verified"
    assert listing.collect_events() == []
    listing.submit(owner, AT, owner_email_verified=True)
    assert listing.status == "pending_review"
