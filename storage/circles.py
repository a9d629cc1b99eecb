"""Ideas of the outer circle (with every change of status) and the digests that carry them inward."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage import history
from storage.history import StatusEvent
from storage.models import Digest, Idea, IdeaEvent, Member
from storage.statements import insert_ignore


class IdeaStatus(StrEnum):
    NEW = "nieuw"
    PARKED = "geparkeerd"
    PICKED_UP = "opgepakt"
    DONE = "afgerond"


NEW, PARKED, PICKED_UP, DONE = IdeaStatus.NEW, IdeaStatus.PARKED, IdeaStatus.PICKED_UP, IdeaStatus.DONE
STATUSES = tuple(IdeaStatus)


def text_key(folded: str) -> str:
    """What makes two ideas the same text: the folded text (case, accents, spacing), hashed to fit an index."""
    return hashlib.sha256(" ".join(folded.split()).encode()).hexdigest()


@dataclass(frozen=True)
class IdeaRecord:
    id: int
    theme: str
    text: str
    source: str | None
    channel: str
    thread: str
    link: str
    source_deleted: bool
    author_id: int | None
    author_name: str
    owner_id: int | None
    owner_name: str
    status: str
    due: date | None
    digest_id: int | None
    created_at: datetime


IdeaEventRecord = StatusEvent


@dataclass(frozen=True)
class DigestRecord:
    id: int
    key: str
    title: str
    since: datetime | None
    pages: tuple[tuple[int, ...], ...]
    created_at: datetime


def _digest(row: Digest) -> DigestRecord:
    return DigestRecord(row.id, row.key, row.title, row.since, tuple(tuple(p) for p in json.loads(row.pages)),
                        row.created_at)


class IdeaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _load(self, where: ColumnElement[bool], *, order: Sequence[Any] = (Idea.id,),
                    limit: int | None = None) -> list[IdeaRecord]:
        author, owner = aliased(Member), aliased(Member)
        query = (select(Idea, author.name, owner.name).outerjoin(author, author.id == Idea.author_id)
                 .outerjoin(owner, owner.id == Idea.owner_id).where(where).order_by(*order))
        if limit is not None:
            query = query.limit(limit)
        return [IdeaRecord(i.id, i.theme, i.text, i.source, i.channel, i.thread, i.link, i.source_deleted, i.author_id,
                           a or "", i.owner_id, o or "", i.status, i.due, i.digest_id, i.created_at)
                for i, a, o in await self.session.execute(query)]

    async def get(self, idea_id: int) -> IdeaRecord | None:
        found = await self._load(Idea.id == idea_id)
        return found[0] if found else None

    async def many(self, ids: Sequence[int]) -> dict[int, IdeaRecord]:
        return {i.id: i for i in await self._load(Idea.id.in_(ids))} if ids else {}

    async def by_source(self, source: str) -> IdeaRecord | None:
        found = await self._load(Idea.source == source)
        return found[0] if found else None

    async def by_text(self, folded: str) -> IdeaRecord | None:
        found = await self._load(Idea.text_key == text_key(folded))
        return found[0] if found else None

    async def create(self, *, theme: str, text: str, folded: str, source: str | None, channel: str, thread: str,
                     link: str, author_id: int | None, added_by: int, now: datetime) -> int | None:
        """A new idea; None when its text or its message is an idea already (also when another instance
        made it a moment ago: the unique keys decide, not a look before)."""
        values = {"theme": theme, "text": text, "text_key": text_key(folded), "source": source, "channel": channel,
                  "thread": thread, "link": link, "source_deleted": False, "author_id": author_id,
                  "added_by": added_by, "status": NEW, "created_at": now, "updated_at": now}
        if not await insert_ignore(self.session, Idea.__table__, [values]):  # type: ignore[arg-type]
            return None
        idea_id = await self.session.scalar(select(Idea.id).where(Idea.text_key == values["text_key"]))
        assert idea_id is not None
        self.session.add(IdeaEvent(idea_id=idea_id, status=NEW, actor_id=added_by, at=now, note=""))
        return int(idea_id)

    async def set_theme(self, idea_id: int, theme: str, now: datetime) -> bool:
        """Give an idea its theme, once: False when it has one already."""
        result = await self.session.execute(update(Idea).where(Idea.id == idea_id, Idea.theme == "")
                                            .values(theme=theme, updated_at=now))
        return int(result.rowcount) == 1  # type: ignore[attr-defined]

    async def move(self, idea_id: int, status: str, *, by: int, now: datetime, from_status: Sequence[str],
                   owner_id: int | None = None, due: date | None = None, note: str = "") -> bool:
        """Move an idea on, only from one of `from_status` (so two presses at once move it once)."""
        return await history.move(self.session, Idea, IdeaEvent, "idea_id", idea_id, status, by=by, now=now,
                                  from_status=from_status, note=note, owner_id=owner_id, due=due)

    async def edit_text(self, source: str, text: str, folded: str, now: datetime) -> IdeaRecord | None:
        """The source message was edited: the idea follows, unless the new text is another idea's."""
        idea = await self.by_source(source)
        if idea is None or await self.by_text(folded) is not None:
            return None
        await self.session.execute(update(Idea).where(Idea.id == idea.id)
                                   .values(text=text, text_key=text_key(folded), updated_at=now))
        return idea

    async def source_deleted(self, source: str, now: datetime) -> bool:
        result = await self.session.execute(update(Idea).where(Idea.source == source, Idea.source_deleted.is_(False))
                                            .values(source_deleted=True, updated_at=now))
        return int(result.rowcount) == 1  # type: ignore[attr-defined]

    async def listing(self, *, theme: str | None = None, statuses: Sequence[str] = STATUSES,
                      limit: int = 20) -> list[IdeaRecord]:
        where: ColumnElement[bool] = Idea.status.in_(statuses)
        if theme is not None:
            where = and_(where, Idea.theme == theme)
        return await self._load(where, order=(Idea.id.desc(),), limit=limit)

    async def themes(self) -> list[str]:
        rows = await self.session.scalars(select(Idea.theme).where(Idea.theme != "").group_by(Idea.theme))
        return list(rows)

    async def history(self, idea_id: int) -> list[IdeaEventRecord]:
        return await history.history(self.session, IdeaEvent, "idea_id", idea_id)

    # -- digests ------------------------------------------------------------------------------------------

    async def for_digest(self, until: datetime) -> tuple[list[IdeaRecord], list[IdeaRecord]]:
        """What a digest carries: the new ideas no digest has carried yet, and the parked ones."""
        fresh = await self._load(and_(Idea.status == NEW, Idea.digest_id.is_(None), Idea.created_at <= until),
                                 order=(Idea.theme, Idea.id))
        parked = await self._load(Idea.status == PARKED, order=(Idea.theme, Idea.id))
        return fresh, parked

    async def last_digest(self) -> DigestRecord | None:
        row = await self.session.scalar(select(Digest).order_by(Digest.id.desc()).limit(1))
        return _digest(row) if row else None

    async def add_digest(self, *, key: str, title: str, since: datetime | None, pages: Sequence[Sequence[int]],
                         carried: Sequence[int], now: datetime) -> int:
        digest = Digest(key=key, title=title, since=since, pages=json.dumps([list(p) for p in pages]), created_at=now)
        self.session.add(digest)
        await self.session.flush()
        if carried:
            await self.session.execute(update(Idea).where(Idea.id.in_(carried), Idea.digest_id.is_(None))
                                       .values(digest_id=digest.id))
        return digest.id

    async def digest(self, digest_id: int) -> DigestRecord | None:
        row = await self.session.get(Digest, digest_id)
        return _digest(row) if row else None
