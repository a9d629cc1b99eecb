"""`netwerkbot backup FILE` and `netwerkbot restore FILE` for the SQLite database.

The copy goes through SQLite's online backup API, which reads one consistent snapshot: a bot that
keeps writing (WAL mode) is not stopped and does not make the copy half-old, half-new. The copy is
checked (`PRAGMA integrity_check`) and moved into place only when whole, so an interrupted backup
never leaves a file that looks like one. PostgreSQL has its own tools (pg_dump/pg_restore, see the
README); for it these commands explain the routine instead.

The Matrix crypto store (MATRIX_STORE_PATH: the bot's device keys and its Olm and Megolm sessions) goes
along: into the folder `FILE.matrix-store` beside the copy, its SQLite file through the same online backup,
and back on a restore. Without it a restored bot could not read what was encrypted for its device.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import TextIO

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from config.i18n import Catalog
from config.settings import Settings
from storage.db import alembic_config


class BackupError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def sqlite_file(settings: Settings) -> Path | None:
    """The database file, or None when the database is not an SQLite file (PostgreSQL, in memory)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def copy(source: Path, target: Path) -> None:
    """One consistent snapshot of `source` into `target` (written beside it, then renamed)."""
    partial = target.with_name(target.name + ".deel")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(partial)) as dst:
            src.backup(dst)  # all pages in one step: one read transaction, writers go on in the WAL
            dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            if dst.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise BackupError(f"integrity_check of {partial}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def revision(path: Path) -> str | None:
    """The schema version recorded in an SQLite file; None when it is no netwerkbot database."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            if db.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                return None
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def backup(settings: Settings, file: str, out: TextIO) -> int:
    t = Catalog(settings.language)
    source, target = sqlite_file(settings), Path(file)
    if source is None:
        print(t("ops.backup_postgres"), file=out)
        return 2
    if not source.is_file():
        print(t("ops.backup_no_database", file=source), file=out)
        return 1
    if target.exists():
        print(t("ops.backup_exists", file=target), file=out)
        return 1
    try:
        copy(source, target)
        crypto = copy_store(settings.matrix_store, store_beside(target))
    except (sqlite3.Error, OSError, BackupError) as error:
        print(t("ops.backup_failed", file=target, error=error), file=out)
        return 1
    print(t("ops.backup_done", file=target, size=_size(target), version=revision(target) or "?"), file=out)
    if crypto:
        print(t("e2e.backup_store", folder=store_beside(target)), file=out)
    return 0


def store_beside(file: Path) -> Path:
    """Where a backup keeps the Matrix crypto store: a folder beside the database's copy."""
    return file.with_name(file.name + ".matrix-store")


def copy_store(store: Path, target: Path) -> bool:
    """The Matrix crypto store's files into `target` (its SQLite databases one consistent snapshot each);
    False when there is none (the bot never ran on Matrix)."""
    files = sorted(p for p in store.glob("*") if p.is_file()) if store.is_dir() else []
    if not files:
        return False
    partial = target.with_name(target.name + ".deel")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        for file in files:
            if file.suffix == ".db":
                copy(file, partial / file.name)
            elif not file.name.endswith(("-wal", "-shm", "-journal")):
                shutil.copy2(file, partial / file.name)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(partial, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return True


def restore(settings: Settings, file: str, out: TextIO) -> int:
    """Puts a backup in place of the database; the database as it was is kept beside it first."""
    t = Catalog(settings.language)
    target, source = sqlite_file(settings), Path(file)
    if target is None:
        print(t("ops.restore_postgres"), file=out)
        return 2
    if not source.is_file():
        print(t("ops.restore_missing", file=source), file=out)
        return 1
    version = revision(source)
    if version is None:
        print(t("ops.restore_not_a_backup", file=source), file=out)
        return 1
    if ScriptDirectory.from_config(alembic_config()).get_revision(version) is None:
        print(t("ops.restore_too_new", file=source, version=version), file=out)
        return 1
    kept = None
    try:
        if target.is_file():
            kept = target.with_name(f"{target.name}.voor-herstel-{datetime.now():%Y%m%d-%H%M%S}")
            copy(target, kept)
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target, timeout=30)) as dst:
            src.backup(dst)  # through SQLite, so its WAL and shared memory stay consistent
        crypto = store_beside(source)
        if crypto.is_dir():  # the crypto store as it was is kept beside it, as the database is
            store = settings.matrix_store
            if store.is_dir():
                copy_store(store, store.with_name(f"{store.name}.voor-herstel-{datetime.now():%Y%m%d-%H%M%S}"))
            copy_store(crypto, store)
    except (sqlite3.Error, OSError, BackupError) as error:
        print(t("ops.restore_failed", file=target, error=error), file=out)
        return 1
    print(t("ops.restore_done", file=target, source=source, version=version), file=out)
    if crypto.is_dir():
        print(t("e2e.restore_store", folder=settings.matrix_store), file=out)
    if kept is not None:
        print(t("ops.restore_kept", file=kept), file=out)
    return 0


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.0f} kB"
