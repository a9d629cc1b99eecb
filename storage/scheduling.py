"""The rows behind time: occurrences (what the bot does at a moment), the outbox (what it sends by
itself), and what the meeting series keep (coordinators' changes, agenda items, settings).

Every state change is a conditional UPDATE whose row count says whether this transaction won, so
two instances on one PostgreSQL never both act on one occurrence or send one message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AgendaItem, Delivery, MeetingChange, Member, Occurrence, OutboxMessage, SeriesSettings
from storage.records import (
    AgendaItemRecord,
    MeetingChangeRecord,
    OccurrenceRecord,
    OutboxRecord,
    PlannedOccurrence,
)
from storage.statements import insert_ignore

PENDING = "pending"


def _table(model: type[Any]) -> Table:
    return model.__table__  # type: ignore[no-any-return]


def _occurrence(row: Occurrence) -> OccurrenceRecord:
    return OccurrenceRecord(row.id, row.key, row.kind, json.loads(row.payload), row.due_at, row.expires_at, row.state,
                            row.done_at)


def _outbox(row: OutboxMessage) -> OutboxRecord:
    return OutboxRecord(row.id, row.key, row.channel, row.body, row.created_at, row.next_attempt_at, row.attempts,
                        row.lease_until, row.sent_at, row.failed_at, row.last_error, row.message_ref)


class OccurrenceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def plan(self, kind: str, wanted: Sequence[PlannedOccurrence], now: datetime) -> int:
        """Make the pending future occurrences of `kind` exactly `wanted`; returns how many are new.

        New keys are added only when they lie ahead (a reminder that was never planned is not sent
        late: planning happens well ahead, so one that fell due while the bot was down exists).
        A pending one whose moment changed (a meeting moved) follows; a pending future one that is
        no longer wanted (a meeting skipped) is cancelled. Done ones are never touched.
        """
        keys = {p.key for p in wanted}
        existing = {row.key: row for row in (await self.session.scalars(
            select(Occurrence).where(Occurrence.kind == kind, Occurrence.state == PENDING))).all()}
        for key, row in existing.items():
            if key not in keys and row.due_at > now:
                row.state, row.done_at = "cancelled", now
        for p in wanted:
            moved = existing.get(p.key)
            if moved is not None and (moved.due_at, moved.expires_at) != (p.due_at, p.expires_at):
                moved.due_at, moved.expires_at, moved.payload = p.due_at, p.expires_at, json.dumps(p.payload)
        fresh = [{"key": p.key, "kind": p.kind, "payload": json.dumps(p.payload), "due_at": p.due_at,
                  "expires_at": p.expires_at, "state": PENDING}
                 for p in wanted if p.key not in existing and p.due_at > now]
        await self.session.flush()
        return await insert_ignore(self.session, _table(Occurrence), fresh)

    async def schedule(self, planned: PlannedOccurrence) -> bool:
        """One occurrence by key (a vote's close); False when the key exists already."""
        return await insert_ignore(self.session, _table(Occurrence), [{
            "key": planned.key, "kind": planned.kind, "payload": json.dumps(planned.payload),
            "due_at": planned.due_at, "expires_at": planned.expires_at, "state": PENDING}]) == 1

    async def due(self, now: datetime, limit: int = 200) -> list[OccurrenceRecord]:
        rows = await self.session.scalars(
            select(Occurrence).where(Occurrence.state == PENDING, Occurrence.due_at <= now)
            .order_by(Occurrence.due_at, Occurrence.id).limit(limit))
        return [_occurrence(row) for row in rows]

    async def claim(self, occurrence_id: int, state: str, now: datetime) -> bool:
        """Move a pending occurrence to `state`; False when another transaction did so first."""
        result = await self.session.execute(
            update(Occurrence).where(Occurrence.id == occurrence_id, Occurrence.state == PENDING)
            .values(state=state, done_at=now))
        return int(result.rowcount) == 1  # type: ignore[attr-defined]

    async def next_due(self, kind: str | None = None, after: datetime | None = None) -> datetime | None:
        """The first pending moment (of one kind, after a moment)."""
        query = select(func.min(Occurrence.due_at)).where(Occurrence.state == PENDING)
        if kind is not None:
            query = query.where(Occurrence.kind == kind)
        if after is not None:
            query = query.where(Occurrence.due_at > after)
        moment: datetime | None = await self.session.scalar(query)
        return moment

    async def by_key(self, key: str) -> OccurrenceRecord | None:
        row = await self.session.scalar(select(Occurrence).where(Occurrence.key == key))
        return _occurrence(row) if row else None

    async def finished(self, kind: str, states: Sequence[str], since: datetime) -> list[OccurrenceRecord]:
        rows = await self.session.scalars(select(Occurrence).where(
            Occurrence.kind == kind, Occurrence.state.in_(states), Occurrence.done_at >= since)
            .order_by(Occurrence.due_at))
        return [_occurrence(row) for row in rows]


@dataclass
class Happened:
    """What a transaction did that others must hear of once it is committed (routed by bot/events.py)."""

    queued: int = 0  # outbox messages queued: wake the sender
    changed: set[str] = field(default_factory=set)  # keys of sent messages whose content changed: refresh them
    wrote: bool = False  # anything was written: views kept current for who watches them may show it (issue 17)

    def __bool__(self) -> bool:
        return bool(self.queued or self.changed or self.wrote)


class OutboxRepository:
    def __init__(self, session: AsyncSession, happened: Happened) -> None:
        self.session = session
        self.happened = happened

    async def enqueue(self, channel: str, body: str, now: datetime, *, key: str | None = None) -> bool:
        """Queue a message; with a key, a second message with that key is not queued (returns False)."""
        new = await insert_ignore(self.session, _table(OutboxMessage), [{
            "key": key, "channel": channel, "body": body, "created_at": now, "next_attempt_at": now,
            "attempts": 0, "last_error": "", "message_ref": ""}]) == 1
        self.happened.queued += new
        return new

    def touch(self, key: str) -> None:
        """The message with this key shows something that changed: refresh it after the commit."""
        self.happened.changed.add(key)

    async def heads(self, limit: int = 1000, destination: Callable[[str], str] = str) -> list[OutboxRecord]:
        """The oldest unsent message of every destination: only it may be sent, so order is kept.

        `destination` says where a channel key really goes: a role ("proposals") and its channel id are
        one destination, so messages queued under either keep their order between them."""
        rows = await self.session.scalars(
            select(OutboxMessage).where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
            .order_by(OutboxMessage.id).limit(limit))
        heads: dict[str, OutboxRecord] = {}
        for row in rows:
            heads.setdefault(destination(row.channel), _outbox(row))
        return list(heads.values())

    async def lease(self, message_id: int, now: datetime, until: datetime) -> bool:
        """Take a message for sending until `until`; False when it is sent, failed or leased by another."""
        result = await self.session.execute(
            update(OutboxMessage).where(
                OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None),
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now))
            .values(lease_until=until, attempts=OutboxMessage.attempts + 1))
        return int(result.rowcount) == 1  # type: ignore[attr-defined]

    async def sent(self, message_id: int, now: datetime, ref: str) -> None:
        await self.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                                   .values(sent_at=now, lease_until=None, message_ref=ref[:255]))

    async def delay(self, message_id: int, until: datetime, error: str) -> None:
        await self.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                                   .values(next_attempt_at=until, lease_until=None, last_error=error[:2000]))

    async def fail(self, message_id: int, now: datetime, error: str) -> None:
        await self.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                                   .values(failed_at=now, lease_until=None, last_error=error[:2000]))

    async def failed(self, since: datetime) -> list[OutboxRecord]:
        rows = await self.session.scalars(select(OutboxMessage).where(OutboxMessage.failed_at >= since)
                                          .order_by(OutboxMessage.id))
        return [_outbox(row) for row in rows]

    async def by_key(self, key: str) -> OutboxRecord | None:
        row = await self.session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
        return _outbox(row) if row else None

    async def prune(self, sent_before: datetime) -> int:
        result = await self.session.execute(delete(OutboxMessage).where(OutboxMessage.sent_at < sent_before))
        return int(result.rowcount)  # type: ignore[attr-defined]


async def prune_deliveries(session: AsyncSession, received_before: datetime) -> int:
    """Forget inbound deliveries older than any retry or replay of them can be."""
    result = await session.execute(delete(Delivery).where(Delivery.received_at < received_before))
    return int(result.rowcount)  # type: ignore[attr-defined]


class MeetingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def changes(self, series: str) -> list[MeetingChangeRecord]:
        rows = await self.session.scalars(select(MeetingChange).where(MeetingChange.series == series))
        return [MeetingChangeRecord(r.series, r.planned, r.skip_reason, r.moved_to, r.changed_by, r.changed_at)
                for r in rows]

    async def change(self, series: str, planned: date, *, skip_reason: str | None, moved_to: datetime | None,
                     by: int, now: datetime) -> None:
        """Skip or move one meeting (a later change of the same meeting replaces the earlier one)."""
        row = await self.session.get(MeetingChange, (series, planned))
        if row is None:
            row = MeetingChange(series=series, planned=planned)
            self.session.add(row)
        row.skip_reason, row.moved_to, row.changed_by, row.changed_at = skip_reason, moved_to, by, now
        await self.session.flush()

    async def agenda(self, series: str, planned: date) -> list[AgendaItemRecord]:
        rows = await self.session.execute(
            select(AgendaItem, Member.name).outerjoin(Member, Member.id == AgendaItem.author_id)
            .where(AgendaItem.series == series, AgendaItem.planned == planned, AgendaItem.removed_at.is_(None))
            .order_by(AgendaItem.id))
        return [AgendaItemRecord(item.id, item.series, item.planned, item.text, item.author_id, name or "",
                                 item.created_at) for item, name in rows]

    async def agenda_counts(self, series: str, planned: Sequence[date]) -> dict[date, int]:
        rows = await self.session.execute(
            select(AgendaItem.planned, func.count()).where(
                AgendaItem.series == series, AgendaItem.planned.in_(planned), AgendaItem.removed_at.is_(None))
            .group_by(AgendaItem.planned))
        return {day: int(count) for day, count in rows}

    async def agenda_item(self, item_id: int) -> AgendaItemRecord | None:
        """A point still on an agenda, or None (unknown or removed)."""
        row = (await self.session.execute(
            select(AgendaItem, Member.name).outerjoin(Member, Member.id == AgendaItem.author_id)
            .where(AgendaItem.id == item_id, AgendaItem.removed_at.is_(None)))).first()
        if row is None:
            return None
        item, name = row
        return AgendaItemRecord(item.id, item.series, item.planned, item.text, item.author_id, name or "",
                                item.created_at)

    async def add_agenda_item(self, series: str, planned: date, text: str, author_id: int, now: datetime) -> int:
        item = AgendaItem(series=series, planned=planned, text=text, author_id=author_id, created_at=now)
        self.session.add(item)
        await self.session.flush()
        return item.id

    async def remove_agenda_item(self, item_id: int, by: int, now: datetime) -> bool:
        result = await self.session.execute(update(AgendaItem).where(AgendaItem.id == item_id,
                                                                     AgendaItem.removed_at.is_(None))
                                            .values(removed_by=by, removed_at=now))
        return int(result.rowcount) == 1  # type: ignore[attr-defined]

    async def settings(self) -> dict[str, dict[str, Any]]:
        rows = await self.session.scalars(select(SeriesSettings))
        return {row.series: json.loads(row.values) for row in rows}

    async def save_settings(self, series: str, values: dict[str, Any], by: int, now: datetime) -> None:
        row = await self.session.get(SeriesSettings, series)
        if row is None:
            row = SeriesSettings(series=series)
            self.session.add(row)
        row.values, row.changed_by, row.changed_at = json.dumps(values, ensure_ascii=False), by, now
        await self.session.flush()
