"""Whether a user may act has one definition (`domain.user.is_active_status`): the cached
`UserDetails` that `Identity.authenticate` reads say so exactly when the `User` does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from application.identity import Identity
from domain.user import ACTIVE, ERASED_STATUS, SUSPENDED, User
from tests.builders import NOW, memory_store, verified_user

STATUSES = st.one_of(st.sampled_from([ACTIVE, SUSPENDED, ERASED_STATUS]), st.text(max_size=8))


@given(status=STATUSES)
def test_user_details_are_active_exactly_when_the_user_is(status: str) -> None:
    store = memory_store()
    user: User = store.load(verified_user(store), "user")
    user.status = status

    assert Identity._details(user).is_active is user.is_active


def test_a_suspended_users_details_are_not_active() -> None:
    store = memory_store()
    user: User = store.load(verified_user(store), "user")
    user.suspend(user.id, "spam", NOW)

    assert not Identity._details(user).is_active and not user.is_active
