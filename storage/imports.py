"""The writes of an import (`netwerkbot import`), a thousand rows to a statement.

An import checks each row on its own (handlers/directory/rules.py) against what was read once at
the start; the rows it accepts are written here in batches: new members with one INSERT … RETURNING
per batch, changed members by primary key, accounts, expertise entries with their index terms and
the vocabulary. What a row does is the same as through MemberRepository and ExpertiseRepository:
each entry's terms and each change for the search caches (storage.changes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.changes import EXPERTISE, MEMBER, SEARCH_STATE, search_changed
from storage.models import Expertise, ExpertiseTerm, Identity, Member, SearchState, SearchTerm
from storage.statements import insert_ignore

BATCH = 1000  # rows per flush
CHUNK = 500  # rows per multi-row INSERT (SQLite allows 32,766 parameters in one statement)


@dataclass(frozen=True)
class KnownEntry:
    id: int
    topic: str
    description: str
    confirmed_at: datetime


@dataclass(frozen=True)
class NewMember:
    name: str
    email: str | None
    role: str
    organisation_id: int | None
    accounts: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class EntryWrite:
    existing: int | None  # the entry's id when it is updated
    member_id: int | None
    organisation_id: int | None
    topic: str
    topic_key: str
    description: str
    terms: Mapping[str, float]
    confirmed_at: datetime


@dataclass
class ImportWriter:
    session: AsyncSession
    now: datetime
    members: list[NewMember] = field(default_factory=list)
    member_updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    links: list[tuple[int, str, str]] = field(default_factory=list)
    entries: list[EntryWrite] = field(default_factory=list)

    async def known_entries(self) -> dict[tuple[int | None, int | None, str], KnownEntry]:
        """Every expertise entry by (member, organisation, topic key), read once."""
        rows = await self.session.execute(select(
            Expertise.id, Expertise.member_id, Expertise.organisation_id, Expertise.topic_key, Expertise.topic,
            Expertise.description, Expertise.confirmed_at))
        return {(m, o, k): KnownEntry(i, t, d, c) for i, m, o, k, t, d, c in rows}

    async def new_member(self, member: NewMember) -> None:
        self.members.append(member)
        await self._full()

    async def update_member(self, member_id: int, values: Mapping[str, Any]) -> None:
        self.member_updates.setdefault(member_id, {}).update(values)
        await self._full()

    async def link(self, member_id: int, platform: str, user_id: str) -> None:
        self.links.append((member_id, platform, user_id))
        await self._full()

    async def entry(self, entry: EntryWrite) -> None:
        self.entries.append(entry)
        await self._full()

    async def _full(self) -> None:
        if len(self.members) + len(self.member_updates) + len(self.links) + len(self.entries) >= BATCH:
            await self.flush()

    async def flush(self) -> None:
        await self._members()
        await self._entries()

    async def _members(self) -> None:
        session, new, self.members = self.session, self.members, []
        # RETURNING in the order of the rows would cost a statement per row on SQLite (SQLAlchemy's
        # insertmanyvalues): members are told apart by their e-mail instead, the few without one go alone
        ids: dict[str | None, int] = {}
        for batch in ([m for m in new if m.email], *([m] for m in new if not m.email)):
            if batch:
                ids |= dict((await session.execute(insert(Member).returning(Member.email, Member.id), [
                    {"name": m.name, "email": m.email, "role": m.role, "title": "",
                     "organisation_id": m.organisation_id, "created_at": self.now} for m in batch])).all())
                self.links += [(ids[m.email], p, u) for m in batch for p, u in m.accounts]
        updates, self.member_updates = self.member_updates, {}
        by_fields: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for member_id, values in updates.items():
            by_fields.setdefault(tuple(sorted(values)), []).append({"id": member_id, **values})
            await search_changed(session, MEMBER, member_id)
        for rows in by_fields.values():
            await session.execute(update(Member), rows)  # by primary key, one statement per set of fields
        links, self.links = self.links, []
        for start in range(0, len(links), CHUNK):
            rows = [{"member_id": m, "platform": p, "user_id": u} for m, p, u in links[start:start + CHUNK]]
            await insert_ignore(session, Identity.__table__, rows)  # type: ignore[arg-type]
        for member_id, _, _ in links:
            await search_changed(session, MEMBER, member_id)

    async def _entries(self) -> None:
        session, entries, self.entries = self.session, self.entries, []
        if not entries:
            return
        new = [e for e in entries if e.existing is None]
        made = {(m, o, k): i for i, m, o, k in (await session.execute(
            insert(Expertise).returning(Expertise.id, Expertise.member_id, Expertise.organisation_id,
                                        Expertise.topic_key),
            [{"member_id": e.member_id, "organisation_id": e.organisation_id, "topic": e.topic,
              "topic_key": e.topic_key, "description": e.description, "created_at": e.confirmed_at,
              "confirmed_at": e.confirmed_at} for e in new]))} if new else {}  # told apart by holder and topic
        indexed = [(made[(e.member_id, e.organisation_id, e.topic_key)], e) for e in new]
        ids = list(made.values())
        changed = [e for e in entries if e.existing is not None]
        for with_description in (True, False):  # by primary key, one statement per set of fields
            rows = [{"id": e.existing, "topic": e.topic, "confirmed_at": e.confirmed_at,
                     **({"description": e.description} if with_description else {})}
                    for e in changed if bool(e.description) == with_description]
            if rows:
                await session.execute(update(Expertise), rows)
        described = [(e.existing, e) for e in changed if e.description and e.existing is not None]
        if described:  # a new description: indexed anew
            await session.execute(delete(ExpertiseTerm).where(
                ExpertiseTerm.expertise_id.in_([entry_id for entry_id, _ in described])))
        indexed += described
        terms = [{"expertise_id": i, "term": t, "weight": w} for i, e in indexed for t, w in e.terms.items()]
        if terms:
            await session.execute(insert(ExpertiseTerm.__table__), terms)  # type: ignore[arg-type]  # Core: no ORM per row
        vocabulary = sorted({term for _, e in indexed for term in e.terms})
        added = 0
        for start in range(0, len(vocabulary), CHUNK):
            added += await insert_ignore(session, SearchTerm.__table__,  # type: ignore[arg-type]
                                         [{"term": t} for t in vocabulary[start:start + CHUNK]])
        if added:
            session.info.pop(SEARCH_STATE, None)  # the vocabulary grew
            await session.execute(update(SearchState).values(terms=SearchState.terms + added))
        for entry_id in [*ids, *(e.existing for e in changed if e.existing is not None)]:
            await search_changed(session, EXPERTISE, entry_id)
