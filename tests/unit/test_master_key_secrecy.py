"""Master keys never reach an error message: a refused setting (pydantic shows the input it
was given) or a refused ring names the key's id only."""

from __future__ import annotations

import base64
import os

import pytest
from pydantic import ValidationError

from infrastructure.master_keys import MasterKeyError, MasterKeys
from infrastructure.settings import Settings


def _pieces(secret: str, size: int = 6) -> list[str]:
    """Every run of `size` characters of the secret (a truncated echo shows a part)."""
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


def test_a_refused_production_setting_never_shows_the_master_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("RENTBOOK_ENVIRONMENT", "production")
    monkeypatch.setenv("RENTBOOK_SECRET_KEY", "signing-secret-never-shown")
    monkeypatch.setenv("RENTBOOK_MASTER_KEYS", f"k1:{key}")  # no database URL: refused
    with pytest.raises(ValidationError, match="RENTBOOK_DATABASE_URL") as refused:
        Settings(_env_file=None)  # type: ignore[call-arg]
    shown = str(refused.value) + repr(refused.value)  # what a traceback or a log prints
    assert [piece for piece in _pieces(key) if piece in shown] == []
    assert "never-shown" not in shown


@pytest.mark.parametrize("length", [16, 31, 33])
def test_a_master_key_of_the_wrong_length_is_refused_by_id_only(length: int) -> None:
    key = base64.b64encode(os.urandom(length)).decode()
    with pytest.raises(MasterKeyError) as refused:
        MasterKeys.parse(f"k1:{key}")
    assert "'k1'" in str(refused.value)
    assert [piece for piece in _pieces(key) if piece in str(refused.value)] == []
