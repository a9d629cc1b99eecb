"""Statements both databases need in their own dialect."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
