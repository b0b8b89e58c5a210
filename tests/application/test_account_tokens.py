"""Email verification and password reset use cases on the in-memory store: the mailed token
works once, within its time, for its user and purpose only; refusals record nothing."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from application.account_tokens import AccountTokens
from application.context import Actor
from application.identity import Identity
from application.listings import Listings
from application.profiles import Profiles
from application.store import EventStore
from application.tokens import TokenSigner
from domain.errors import ConflictError, RuleViolation
from domain.user import PASSWORD_RESET, VERIFY_EMAIL
from infrastructure.sessions import InMemorySessionStore
from tests.builders import NOW, identity_of, listing_spec, memory_store
from tests.fakes import CapturingMailer

PASSWORD = "correct horse battery"


class Accounts:
    def __init__(self) -> None:
        self.store: EventStore = memory_store()
        sessions = InMemorySessionStore()
        self.identity: Identity = identity_of(self.store, sessions)
        self.mailer = CapturingMailer()
        self.tokens = AccountTokens(
            self.store, self.identity.hasher, sessions, self.mailer, TokenSigner("test-secret")
        )

    def sign_up(self, email: str) -> UUID:
        user_id, _ = self.identity.register(email, PASSWORD, "Ada", at=NOW)
        self.tokens.send_verification(user_id, at=NOW)
        return user_id

    def refused(self, action: object, code: str) -> None:
        """`action` raises RuleViolation `code` and records nothing."""
        before = self.store.current_position()
        with pytest.raises(RuleViolation) as refusal:
            action()  # type: ignore[operator]
        assert refusal.value.code == code
        assert self.store.current_position() == before


@pytest.fixture
def accounts() -> Accounts:
    return Accounts()


def test_the_mailed_token_verifies_the_email_once(accounts: Accounts) -> None:
    user_id = accounts.sign_up("ada@example.com")
    token = accounts.mailer.last_token("ada@example.com", VERIFY_EMAIL)
    assert accounts.tokens.verify_email(token, at=NOW + timedelta(hours=23))[0] == user_id
    assert accounts.identity.get_user(user_id).email_verified
    accounts.refused(lambda: accounts.tokens.verify_email(token, at=NOW), "invalid_token")


def test_the_verification_mail_links_to_the_web_page_with_its_token(accounts: Accounts) -> None:
    accounts.sign_up("bea@example.com")
    (mail,) = accounts.mailer.to("bea@example.com", VERIFY_EMAIL)
    assert f"http://127.0.0.1:8000/verify-email?token={mail.token}\n" in mail.text


def test_a_verification_token_expires_after_24_hours(accounts: Accounts) -> None:
    accounts.sign_up("ada@example.com")
    token = accounts.mailer.last_token("ada@example.com", VERIFY_EMAIL)
    late = NOW + timedelta(hours=24)
    accounts.refused(lambda: accounts.tokens.verify_email(token, at=late), "token_expired")


def test_resending_supersedes_the_first_token(accounts: Accounts) -> None:
    user_id = accounts.sign_up("ada@example.com")
    first = accounts.mailer.last_token("ada@example.com", VERIFY_EMAIL)
    accounts.tokens.send_verification(user_id, at=NOW)
    second = accounts.mailer.last_token("ada@example.com", VERIFY_EMAIL)
    accounts.refused(lambda: accounts.tokens.verify_email(first, at=NOW), "invalid_token")
    accounts.tokens.verify_email(second, at=NOW)
    with pytest.raises(ConflictError):
        accounts.tokens.send_verification(user_id, at=NOW)


def test_a_password_reset_mails_only_known_active_accounts(accounts: Accounts) -> None:
    accounts.sign_up("ada@example.com")
    assert accounts.tokens.request_password_reset("nobody@example.com", at=NOW) == 0
    assert accounts.tokens.request_password_reset("not an address", at=NOW) == 0
    assert accounts.mailer.to("nobody@example.com") == []
    assert accounts.tokens.request_password_reset("ADA@example.com", at=NOW) > 0
    assert len(accounts.mailer.to("ada@example.com", PASSWORD_RESET)) == 1


def test_resetting_sets_the_password_ends_every_session_and_works_once(
    accounts: Accounts,
) -> None:
    user_id = accounts.sign_up("ada@example.com")
    session, _, _ = accounts.identity.login("ada@example.com", PASSWORD, at=NOW)
    accounts.tokens.request_password_reset("ada@example.com", at=NOW)
    token = accounts.mailer.last_token("ada@example.com", PASSWORD_RESET)
    accounts.refused(
        lambda: accounts.tokens.reset_password(token, "short", at=NOW), "weak_password"
    )
    assert accounts.tokens.reset_password(token, "a brand new secret", at=NOW)[0] == user_id
    assert accounts.identity.sessions(user_id, at=NOW) == []
    assert session.token is not None
    with pytest.raises(Exception, match="invalid"):
        accounts.identity.authenticate(session.token, at=NOW)
    accounts.identity.login("ada@example.com", "a brand new secret", at=NOW)
    accounts.refused(
        lambda: accounts.tokens.reset_password(token, "another new secret", at=NOW),
        "invalid_token",
    )


def test_a_reset_token_expires_after_an_hour(accounts: Accounts) -> None:
    accounts.sign_up("ada@example.com")
    accounts.tokens.request_password_reset("ada@example.com", at=NOW)
    token = accounts.mailer.last_token("ada@example.com", PASSWORD_RESET)
    late = NOW + timedelta(hours=1)
    accounts.refused(
        lambda: accounts.tokens.reset_password(token, "a brand new secret", at=late),
        "token_expired",
    )


def test_an_unverified_owner_cannot_submit_until_verified(accounts: Accounts) -> None:
    owner_id = accounts.sign_up("olivia@example.com")
    listings = Listings(accounts.store, service_fee_bp=1200, commission_bp=300)
    owner = Actor(owner_id, "user")
    listing_id, _ = listings.create(owner, listing_spec(), NOW)
    accounts.refused(lambda: listings.submit(owner, listing_id, NOW), "email_not_verified")
    accounts.identity.mark_email_verified(owner_id, at=NOW)
    assert listings.submit(owner, listing_id, NOW) > 0


def test_a_listing_whose_owner_has_no_account_cannot_be_submitted() -> None:
    store = memory_store()
    listings = Listings(store, service_fee_bp=1200, commission_bp=300)
    ghost = Actor(UUID(int=7), "user")
    listing_id, _ = listings.create(ghost, listing_spec(), NOW)
    with pytest.raises(RuleViolation, match="verify"):
        listings.submit(ghost, listing_id, NOW)


class FakeCatalog:
    def __init__(self, known: set[UUID]) -> None:
        self.known = known

    def missing(self, owner_id: UUID, media_ids: list[UUID]) -> list[UUID]:
        return [m for m in media_ids if m not in self.known]


def test_an_avatar_must_be_the_users_own_media_when_a_catalog_is_wired(
    accounts: Accounts,
) -> None:
    user_id = accounts.sign_up("ada@example.com")
    mine, theirs = UUID(int=1), UUID(int=2)
    profiles = Profiles(accounts.store, FakeCatalog({mine}))  # type: ignore[arg-type]
    accounts.refused(
        lambda: profiles.edit(user_id, avatar_media_id=theirs, at=NOW), "media_not_found"
    )
    assert profiles.edit(user_id, avatar_media_id=mine, at=NOW) > 0
    assert Profiles(accounts.store).edit(user_id, avatar_media_id=theirs, at=NOW) > 0


# -- the invariant -------------------------------------------------------------------------

PURPOSES = (VERIFY_EMAIL, PASSWORD_RESET)
steps = st.lists(
    st.tuples(
        st.sampled_from(["issue", "use"]),
        st.integers(0, 1),  # which user
        st.sampled_from(PURPOSES),  # the purpose of the action
        st.integers(0, 5),  # which earlier token to use
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(steps)
def test_a_token_works_only_for_its_user_and_purpose_and_only_once_and_only_while_newest(
    script: list[tuple[str, int, str, int]],
) -> None:
    accounts = Accounts()
    users = [accounts.sign_up(f"u{n}@example.com") for n in range(2)]
    issued: list[tuple[str, UUID, str]] = []  # (token, user, purpose), oldest first
    live: dict[tuple[UUID, str], str] = {}  # the newest unused token per user and purpose
    for n, user in enumerate(users):
        token = accounts.mailer.last_token(f"u{n}@example.com", VERIFY_EMAIL)
        issued.append((token, user, VERIFY_EMAIL))
        live[(user, VERIFY_EMAIL)] = token
    verified: set[UUID] = set()
    for action, who, purpose, pick in script:
        user = users[who]
        if action == "issue":
            if purpose == VERIFY_EMAIL:
                if user in verified:
                    continue
                accounts.tokens.send_verification(user, at=NOW)
            else:
                accounts.tokens.request_password_reset(f"u{who}@example.com", at=NOW)
            token = accounts.mailer.last_token(f"u{who}@example.com", purpose)
            issued.append((token, user, purpose))
            live[(user, purpose)] = token
            continue
        token, owner, made_for = issued[pick % len(issued)]
        should_work = made_for == purpose and live.get((owner, purpose)) == token
        try:
            if purpose == VERIFY_EMAIL:
                got, _ = accounts.tokens.verify_email(token, at=NOW)
                verified.add(got)
            else:
                got, _ = accounts.tokens.reset_password(token, "a fresh password!", at=NOW)
        except RuleViolation:
            assert not should_work
            continue
        assert should_work and got == owner
        del live[(owner, purpose)]
