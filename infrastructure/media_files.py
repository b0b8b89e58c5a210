"""The `MediaStore` on a directory: each blob at `<root>/<aa>/<bb>/<sha-256>`.

Content addressing makes writes idempotent and races harmless: a blob is written to a
temporary file beside its final name and renamed into place (atomic on POSIX), so a reader
never sees half a file and two writers of the same bytes leave one.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from application.media import MediaStore

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class FileMediaStore(MediaStore):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_of(self, digest: str) -> Path:
        if not _DIGEST.match(digest):
            raise ValueError(f"not a sha-256 digest: {digest!r}")
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self.path_of(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def read(self, digest: str) -> bytes | None:
        try:
            return self.path_of(digest).read_bytes()
        except (FileNotFoundError, ValueError):
            return None
