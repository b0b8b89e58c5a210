"""Master keys from the settings (infrastructure/master_keys.py): a ring `id:base64,...` whose
first wraps and all unwrap; malformed or missing keys are refused with a message that names
the fix; production requires them; the embedded default generates one key file (0600) once."""

from __future__ import annotations

import base64
import logging
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from infrastructure.master_keys import KEY_FILE, MasterKeyError, MasterKeys, master_keys
from infrastructure.settings import Settings

# Fixed keys: parametrize ids carry them, and every xdist worker must collect the same ids.
A, B = bytes(range(32)), bytes(range(32, 64))


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_the_first_key_of_the_ring_wraps_and_every_key_unwraps() -> None:
    ring = MasterKeys.parse(f"new:{b64(B)}, old:{b64(A)}")
    wrapped, kek = MasterKeys({"old": A}).wrap("s", b"k" * 32)
    assert ring.current == "new" and ring.wrap("s", b"k" * 32)[1] == "new"
    assert ring.unwrap("s", wrapped, kek) == b"k" * 32


@given(
    subject=st.text(max_size=40),
    other=st.text(max_size=40),
    key=st.binary(min_size=32, max_size=32),
)
def test_a_wrapped_key_opens_for_its_own_subject_only(subject: str, other: str, key: bytes) -> None:
    ring = MasterKeys({"k": A})
    wrapped, kek = ring.wrap(subject, key)
    assert key not in wrapped and ring.unwrap(subject, wrapped, kek) == key
    if other != subject:
        with pytest.raises(MasterKeyError, match="tampered"):
            ring.unwrap(other, wrapped, kek)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no master key"),
        (b64(A), "id:base64"),
        ("k:not base64!", "not base64"),
        (f"k:{b64(A[:16])}", "not 32 bytes"),
        (f"k:{b64(A)},k:{b64(B)}", "given twice"),
        (f"bad id:{b64(A)}", "use 1-32"),
    ],
)
def test_a_malformed_ring_is_refused(text: str, message: str) -> None:
    with pytest.raises(MasterKeyError, match=message):
        MasterKeys.parse(text)


def test_an_unknown_master_key_id_names_the_fix() -> None:
    wrapped, kek = MasterKeys({"gone": A}).wrap("s", b"k" * 32)
    with pytest.raises(MasterKeyError, match="add it to RENTBOOK_MASTER_KEYS"):
        MasterKeys({"k": B}).unwrap("s", wrapped, kek)


def test_settings_take_the_ring_or_the_single_key_but_not_both(tmp_path: Path) -> None:
    ring = Settings(environment="test", data_dir=tmp_path, master_keys=SecretStr(f"x:{b64(A)}"))
    one = Settings(environment="test", data_dir=tmp_path, master_key=SecretStr(b64(A)))
    assert master_keys(ring).ids == ("x",) and master_keys(one).ids == ("default",)
    both = one.model_copy(update={"master_keys": ring.master_keys})
    with pytest.raises(MasterKeyError, match="not both"):
        master_keys(both)
    assert not (tmp_path / KEY_FILE).exists()


def test_production_requires_a_master_key() -> None:
    production = {
        "environment": "production",
        "secret_key": "s3cret",
        "database_url": "postgresql://u@h/db",
        "payment_gateway": "stripe",
    }
    with pytest.raises(ValidationError, match="RENTBOOK_MASTER_KEY"):
        Settings(**production)
    assert Settings(**production, master_key=SecretStr(b64(A))).master_key is not None


def test_the_embedded_default_generates_one_private_key_file_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(environment="development", data_dir=tmp_path / "data")
    with caplog.at_level(logging.WARNING):
        first = master_keys(settings)
    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "GENERATED A MASTER KEY" in caplog.text
    wrapped, kek = first.wrap("s", b"k" * 32)
    assert master_keys(settings).unwrap("s", wrapped, kek) == b"k" * 32  # the same key
    assert [p.name for p in path.parent.iterdir()] == [KEY_FILE]  # no draft left behind
