"""Filling a benchmark database in bulk, leaving it as the bot would have left it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select, text, update

from storage.db import Database
from storage.models import Base, SearchState, SearchTerm

BATCH = 20_000


async def bulk_insert(db: Database, tables: Sequence[tuple[type[Base], list[dict[str, Any]]]]) -> None:
    """Insert the rows with their ids, in one transaction; then what the bot keeps beside them:
    the vocabulary's size in search_state, PostgreSQL's id sequences, the planner's statistics."""
    async with db.transaction() as repos:
        session = repos.session
        for model, rows in tables:
            for start in range(0, len(rows), BATCH):
                await session.execute(insert(model), rows[start:start + BATCH])
        terms = await session.scalar(select(func.count()).select_from(SearchTerm))
        await session.execute(update(SearchState).values(terms=terms, version=SearchState.version + 1))
        if db.dialect == "postgresql":
            for model, rows in tables:
                if rows and "id" in rows[0]:
                    name = model.__tablename__
                    await session.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"))
    async with db.engine.begin() as connection:
        await connection.execute(text("ANALYZE"))
