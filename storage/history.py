"""Things with a status and a history of it (pitches, ideas): one way to move them on and to read back
who moved them when.

A move is a conditional UPDATE (only from one of `from_status`), so two presses at once move a thing
once; the event row is written in the same transaction, so the history never disagrees with the status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import models
from storage.models import Base, Member


@dataclass(frozen=True)
class StatusEvent:
    status: str
    actor_name: str  # "" for the bot
    at: datetime
    note: str


async def move(session: AsyncSession, model: type[Base], event: type[models.StatusEvent], subject: str, subject_id: int,
               status: str, *, by: int | None, now: datetime, from_status: Sequence[str], note: str = "",
               **values: Any) -> bool:
    """Give row `subject_id` of `model` the status `status` (and `values`) if its status is one of
    `from_status`, and record it in `event` (whose column `subject` names the row); False when it was not."""
    table: Any = model
    result = await session.execute(update(model).where(table.id == subject_id, table.status.in_(from_status))
                                   .values(status=status, updated_at=now, **values))
    if int(result.rowcount) != 1:  # type: ignore[attr-defined]
        return False
    row: Any = event
    session.add(row(**{subject: subject_id}, status=status, actor_id=by, at=now, note=note))
    await session.flush()
    return True


async def history(session: AsyncSession, event: type[models.StatusEvent], subject: str,
                  subject_id: int) -> list[StatusEvent]:
    """Every move of one row, oldest first, with the name of who made it."""
    rows = await session.execute(select(event.status, Member.name, event.at, event.note)
                                 .outerjoin(Member, Member.id == event.actor_id)
                                 .where(getattr(event, subject) == subject_id).order_by(event.id))
    return [StatusEvent(status, name or "", at, note) for status, name, at, note in rows]
