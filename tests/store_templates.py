"""Empty SQLite stores built once per worker and copied into each test's data directory.

Creating the event tables and the ~60 view tables costs a test's container about 0.2 s of
CPU; copying the two files of a store built the same way costs about a millisecond, and
`build_container` then finds every table in place. A template is kept per distinct Settings
(but for `data_dir`), so a test with other settings gets a store built with them.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from infrastructure.settings import Settings


class SqliteTemplates:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._built: dict[str, Path] = {}

    def seed(self, settings: Settings) -> None:
        """Puts in `settings.data_dir` the empty store `build_container(settings)` would
        create there; leaves PostgreSQL, explicit media or mail paths, and a data
        directory that already exists to the container."""
        explicit = settings.media_dir or settings.mail_dir
        if settings.database_url or explicit or settings.data_dir.exists():
            return
        key = settings.model_dump_json(exclude={"data_dir"})
        source = self._built.get(key)
        if source is None:
            from infrastructure.bootstrap import build_container  # not for every conftest

            source = self._root / f"store-{len(self._built)}"
            build_container(settings.model_copy(update={"data_dir": source})).close()
            self._built[key] = source
        shutil.copytree(source, settings.data_dir)
        _touch_tracking(settings.data_dir / "views.db")


def _touch_tracking(views: Path) -> None:
    # The projections' tracking rows record when they were set up (wall clock): now, as a
    # store built for this test would say, not when the template was built.
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(views) as conn:
        conn.execute("UPDATE projection_tracking SET updated_at = ?", (now,))
    conn.close()
