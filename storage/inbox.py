"""The inbox rows (storage/models.py `InboxEntry`): written in groups, read in order, deleted when handled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxEntry


class Kept(NamedTuple):
    id: int
    key: str
    body: str


async def add(session: AsyncSession, entries: Sequence[tuple[str, str, str]], now: datetime) -> list[int]:
    """Rows of (platform, key, body); their ids in the same order."""
    if not entries:
        return []
    rows = [{"platform": platform, "key": key, "body": body, "received_at": now} for platform, key, body in entries]
    # one statement for the group (SQLAlchemy's "insertmanyvalues"), ids in the order of the rows
    result = await session.execute(insert(InboxEntry).returning(InboxEntry.id, sort_by_parameter_order=True), rows)
    return [int(i) for i in result.scalars()]


async def remove(session: AsyncSession, ids: Sequence[int]) -> None:
    if ids:
        await session.execute(delete(InboxEntry).where(InboxEntry.id.in_(list(ids))))


async def waiting(session: AsyncSession, platform: str) -> list[Kept]:
    """What `platform` acknowledged and has not handled yet, oldest first."""
    rows = await session.execute(select(InboxEntry.id, InboxEntry.key, InboxEntry.body)
                                 .where(InboxEntry.platform == platform).order_by(InboxEntry.id))
    return [Kept(int(i), str(k), str(b)) for i, k, b in rows.all()]
