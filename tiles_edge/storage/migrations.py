"""Versioned schema migrations: ``migrations/<backend>/NNNN_name.sql``, applied in order.

Each applied file is recorded in ``schema_migrations`` with its SHA-256, so a file edited
after it ran is reported instead of silently differing from the database.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass
from importlib import resources

from tiles_edge.errors import StorageError

_FILE_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def load_migrations(backend: str) -> list[Migration]:
    """Read the migration files shipped for ``backend``, ordered by version.

    Raises StorageError on a misnamed file or a duplicate version, because either would
    make the applied schema depend on directory order.
    """
    folder = resources.files("tiles_edge.storage").joinpath("migrations", backend)
    migrations: dict[int, Migration] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.fullmatch(entry.name)
        if match is None:
            raise StorageError(
                f"migration file {backend}/{entry.name} is misnamed: use NNNN_lower_case.sql"
            )
        version = int(match.group(1))
        if version in migrations:
            raise StorageError(
                f"migrations {backend}/{migrations[version].name} and {backend}/{entry.name} "
                f"share version {version}"
            )
        migrations[version] = Migration(version, entry.name, entry.read_text(encoding="utf-8"))
    return [migrations[version] for version in sorted(migrations)]


def split_statements(script: str) -> list[str]:
    """Split an SQL script into statements, keeping ``;`` inside strings and triggers.

    ``sqlite3.executescript`` would do this too, but it commits any open transaction first,
    which would break applying all pending migrations in one transaction.
    """
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            statement = pending.strip()
            if _has_code(statement):
                statements.append(statement)
            pending = ""
    # The loop appended a ";" after the last piece, so a leftover here ends inside a
    # string, a comment or a trigger body.
    if _has_code(pending.removesuffix(";")):
        raise StorageError(f"migration ends in an incomplete statement: {pending.strip()[:80]!r}")
    return statements


def _has_code(statement: str) -> bool:
    """Return whether ``statement`` contains more than comments, whitespace and ``;``."""
    without_comments = re.sub(r"--[^\n]*|/\*.*?\*/", "", statement, flags=re.DOTALL)
    return without_comments.strip(" \t\r\n;") != ""
