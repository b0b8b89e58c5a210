"""Master keys never reach an error message (a refused setting, where pydantic shows the
input it was given, or a refused ring name the key's id only), and the generated key file
reaches the disk before it takes its name."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from infrastructure.master_keys import MasterKeyError, MasterKeys, master_keys
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


def test_the_key_file_is_on_disk_before_it_takes_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash right after the link must not leave an empty master.keys (every data key
    wrapped with a key that was never written): the draft is flushed first."""
    synced: list[int] = []
    real_fsync, real_link = os.fsync, os.link

    def fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    def link(source: str | Path, target: str | Path) -> None:
        assert synced, "linked before the draft reached the disk"
        real_link(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "link", link)
    master_keys(Settings(data_dir=tmp_path))
    assert len(synced) >= 2  # the draft, then the directory holding the new name
