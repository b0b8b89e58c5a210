"""Master keys (key-encryption keys) that wrap the per-subject data keys of `personal_keys`.

Kept outside the database, so a dump or a backup of it holds only wrapped keys: without the
master key no one reads anyone's personal data, and once a row is a tombstone an old backup's
wrapped key is useless too after the master key that wrapped it is retired (rotation).

A key ring of versioned master keys, `id:base64,...`: the first wraps, every one unwraps
(MultiFernet's convention), so rotating is "prepend the new key, rewrap, drop the old one".
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from infrastructure.settings import Settings

log = logging.getLogger(__name__)

KEY_BYTES = 32
NONCE_BYTES = 12
SINGLE_ID = "default"  # the id of RENTBOOK_MASTER_KEY's one key
# The generated key file's key is `local-<random>`: two data dirs' keys on one database
# never share an id, so rows wrapped by the other one are named at start-up, not mixed up.
LOCAL_ID = "local"
KEY_FILE = "master.keys"  # under the data dir, when no master key is configured
_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")


class MasterKeyError(RuntimeError):
    """A master key is missing, malformed, or not the one a data key was wrapped with."""


class MasterKeys:
    """Wraps data keys with AES-GCM under the first master key; the subject and the master
    key's id are the associated data, so a wrapped key moved to another row never opens."""

    def __init__(self, keys: dict[str, bytes]) -> None:
        if not keys:
            raise MasterKeyError("no master key configured")
        for key_id, key in keys.items():
            if not _ID.fullmatch(key_id):
                raise MasterKeyError(f"master key id {key_id!r}: use 1-32 of [A-Za-z0-9_.-]")
            if len(key) != KEY_BYTES:
                raise MasterKeyError(f"master key {key_id!r} is not {KEY_BYTES} bytes")
        self.current = next(iter(keys))
        self.ids = tuple(keys)
        self._aeads = {key_id: AESGCM(key) for key_id, key in keys.items()}

    @classmethod
    def parse(cls, text: str) -> MasterKeys:
        """`id:base64,id:base64,...` (the first wraps)."""
        keys: dict[str, bytes] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            key_id, sep, encoded = item.partition(":")
            if not sep:
                raise MasterKeyError("master keys are written id:base64,id:base64,...")
            if key_id in keys:
                raise MasterKeyError(f"master key id {key_id!r} given twice")
            keys[key_id] = _decode(key_id, encoded)
        return cls(keys)

    def wrap(self, subject: str, key: bytes) -> tuple[bytes, str]:
        """The wrapped key and the id of the master key that wrapped it."""
        nonce = os.urandom(NONCE_BYTES)  # one per data key made or rewrapped: rare
        aead = self._aeads[self.current]
        return nonce + aead.encrypt(nonce, key, _aad(self.current, subject)), self.current

    def unwrap(self, subject: str, wrapped: bytes, key_id: str) -> bytes:
        aead = self._aeads.get(key_id)
        if aead is None:
            raise MasterKeyError(
                f"the data key of {subject} was wrapped by master key {key_id!r}, which is not"
                f" configured (have {', '.join(self.ids)}): add it to RENTBOOK_MASTER_KEYS"
            )
        try:
            return aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _aad(key_id, subject))
        except InvalidTag:
            raise MasterKeyError(
                f"master key {key_id!r} does not unwrap the data key of {subject}:"
                " a wrong master key under that id (or a tampered row)"
            ) from None


def master_keys(settings: Settings) -> MasterKeys:
    """RENTBOOK_MASTER_KEYS, else RENTBOOK_MASTER_KEY, else (never in production, which the
    settings refuse) a key generated once into `<data_dir>/master.keys`."""
    many, one = settings.master_keys, settings.master_key
    if many is not None and one is not None:
        raise MasterKeyError("set RENTBOOK_MASTER_KEYS or RENTBOOK_MASTER_KEY, not both")
    if many is not None:
        return MasterKeys.parse(many.get_secret_value())
    if one is not None:
        return MasterKeys({SINGLE_ID: _decode(SINGLE_ID, one.get_secret_value())})
    if settings.environment == "production":  # the settings refuse it; never a file here
        raise MasterKeyError("RENTBOOK_MASTER_KEY(S) must be set in production")
    return MasterKeys.parse(_key_file(settings.data_dir / KEY_FILE))


def new_master_key() -> str:
    """A fresh master key, base64 (for `rentbook admin new-master-key`)."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def _key_file(path: Path) -> str:
    """The file's keys, made first (0600, linked into place so a concurrent starter reads
    a whole file) when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(f"{LOCAL_ID}-{os.urandom(4).hex()}:{new_master_key()}\n")
            out.flush()
            os.fsync(out.fileno())  # else a crash may leave the name on an empty file
        try:
            os.link(draft, path)
            _sync_dir(path.parent)  # the new name survives a crash too
            log.warning(
                "GENERATED A MASTER KEY at %s: personal data keys are wrapped with it. Back it"
                " up apart from the database; in production set RENTBOOK_MASTER_KEY(S)",
                path,
            )
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            os.unlink(draft)
    if path.stat().st_mode & 0o077:
        log.warning("master key file %s is readable by others: chmod 600 it", path)
    return path.read_text()


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _decode(key_id: str, encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError(f"master key {key_id!r} is not base64") from None


def _aad(key_id: str, subject: str) -> bytes:
    return b"rentbook-personal-key\0" + key_id.encode() + b"\0" + subject.encode()
