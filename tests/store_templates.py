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


class PgTemplates:
    """The same for PostgreSQL: per distinct Settings (but for the database, data directory
    and Redis prefix) one database with the store's tables, which `CREATE DATABASE ...
    TEMPLATE` clones for a test in a fraction of the ~2 s its tables take to create."""

    def __init__(self, admin_url: str, root: Path) -> None:
        self._admin_url = admin_url
        self._root = root
        self._built: dict[str, str] = {}

    @property
    def names(self) -> list[str]:
        return list(self._built.values())

    def _url(self, name: str) -> str:
        return self._admin_url.rsplit("/", 1)[0] + "/" + name

    def _execute(self, sql: str, name: str | None = None) -> None:
        import psycopg

        with psycopg.connect(self._url(name) if name else self._admin_url) as conn:
            conn.autocommit = True
            conn.execute(sql)

    def clone(self, name: str, settings: Settings) -> Settings:
        """Creates database `name` with the empty store `settings` would build; `settings`
        on it."""
        exclude = {"database_url", "data_dir", "redis_key_prefix"}
        key = settings.model_dump_json(exclude=exclude)
        template = self._built.get(key)
        if template is None:
            template = f"{name}_tpl"
            self._execute(f'CREATE DATABASE "{template}"')
            self._built[key] = template
            self._build(settings, template)
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        now = datetime.now(UTC).isoformat()  # as in `_touch_tracking`
        self._execute(f"UPDATE projection_tracking SET updated_at = '{now}'", name)
        return settings.model_copy(update={"database_url": self._url(name)})

    def _build(self, settings: Settings, template: str) -> None:
        from infrastructure.bootstrap import build_container

        update = {
            "database_url": self._url(template),
            "data_dir": self._root / template,
            "redis_key_prefix": f"{settings.redis_key_prefix}{template}:",
        }
        build_container(settings.model_copy(update=update)).close()
