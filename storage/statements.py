"""Statements both databases need in their own dialect."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_ignore(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """INSERT … ON CONFLICT DO NOTHING on both databases; returns how many rows were new."""
    if not rows:
        return 0
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    result = await session.execute(dialect.insert(table).values(list(rows)).on_conflict_do_nothing())
    return int(result.rowcount)  # type: ignore[attr-defined]


async def upsert_later(session: AsyncSession, table: Table, keys: tuple[str, ...], row: Mapping[str, Any],
                       stamp: str) -> bool:
    """Insert `row`, or replace the row with the same `keys` when that one's `stamp` is not later (the
    last one counts, not one handled late); False when a later one was there. The statement is built once
    per table and database (building the upsert's EXCLUDED columns cost a third of a ballot's time)."""
    statement = _upsert_later(session.get_bind().dialect.name, table, keys, tuple(sorted(row)), stamp)
    return int((await session.execute(statement, dict(row))).rowcount) == 1  # type: ignore[attr-defined]


@lru_cache(maxsize=64)
def _upsert_later(database: str, table: Table, keys: tuple[str, ...], columns: tuple[str, ...], stamp: str) -> Any:
    dialect = postgresql if database == "postgresql" else sqlite
    statement = dialect.insert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c[k] for k in keys],
        set_={c: statement.excluded[c] for c in columns if c not in keys},
        where=table.c[stamp] <= statement.excluded[stamp])
