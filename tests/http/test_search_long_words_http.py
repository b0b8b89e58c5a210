"""Over HTTP: a listing whose description is one 10,000-letter word is accepted, indexed and
found (its first letters as the query), on SQLite and PostgreSQL; on PostgreSQL its index
row once stopped the search syncer, and reads waiting for it answered 503."""

from __future__ import annotations

import random
import string

from tests.http.bookings_support import open_listing
from tests.http.conftest import API, Api


def test_a_listing_with_a_huge_word_is_indexed_and_found(any_api: Api) -> None:
    api = any_api
    owner, admin = api.new_user(), api.admin()
    letters = random.Random(7)  # random letters: PostgreSQL cannot compress them
    word = "".join(letters.choice(string.ascii_lowercase) for _ in range(10_000))
    listing_id = open_listing(api, owner, admin, description=word)
    position = str(api.container.store.current_position())
    r = api.client.get(
        f"{API}/search/listings",
        params={"q": word[:150]},
        headers={"X-Rentbook-Min-Position": position},
    )
    assert r.status_code == 200, r.text
    assert [hit["id"] for hit in r.json()["data"]] == [listing_id]
