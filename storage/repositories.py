"""Repositories: the queries the features need, each returning plain records.

One `Repositories` object wraps one session, i.e. one transaction; the dispatcher makes one
per input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, case, delete, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery, Expertise, ExpertiseTerm, Identity, Member, Organisation, SearchTerm
from storage.records import (
    ExpertiseRecord,
    Holder,
    HolderHit,
    MemberRecord,
    OrganisationRecord,
    SearchPage,
    TopicCount,
)


async def insert_ignore(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """INSERT … ON CONFLICT DO NOTHING on both databases; returns how many rows were new."""
    if not rows:
        return 0
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    result = await session.execute(dialect.insert(table).values(list(rows)).on_conflict_do_nothing())
    return int(result.rowcount)  # type: ignore[attr-defined]


def _organisation(row: Organisation) -> OrganisationRecord:
    return OrganisationRecord(id=row.id, name=row.name, kind=row.kind, werkgebied=row.werkgebied)


class OrganisationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_key(self, name_key: str) -> OrganisationRecord | None:
        row = await self.session.scalar(select(Organisation).where(Organisation.name_key == name_key))
        return _organisation(row) if row else None

    async def all(self) -> list[OrganisationRecord]:
        rows = await self.session.scalars(select(Organisation).order_by(Organisation.name))
        return [_organisation(row) for row in rows]

    async def upsert(self, *, name: str, name_key: str, kind: str, werkgebied: str,
                     now: datetime) -> tuple[OrganisationRecord, bool]:
        """Create or update by `name_key`; returns the record and whether it was new."""
        row = await self.session.scalar(select(Organisation).where(Organisation.name_key == name_key))
        created = row is None
        if row is None:
            row = Organisation(name_key=name_key, created_at=now)
            self.session.add(row)
        row.name, row.kind, row.werkgebied = name, kind, werkgebied
        await self.session.flush()
        return _organisation(row), created


class MemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _records(self, members: Sequence[Member]) -> list[MemberRecord]:
        if not members:
            return []
        ids = [m.id for m in members]
        org_ids = {m.organisation_id for m in members if m.organisation_id is not None}
        orgs = {o.id: _organisation(o) for o in await self.session.scalars(
            select(Organisation).where(Organisation.id.in_(org_ids)))} if org_ids else {}
        identities: dict[int, list[tuple[str, str]]] = {}
        for ident in await self.session.scalars(select(Identity).where(Identity.member_id.in_(ids))):
            identities.setdefault(ident.member_id, []).append((ident.platform, ident.user_id))
        return [
            MemberRecord(
                id=m.id, name=m.name, title=m.title, email=m.email, role=m.role,
                organisation=orgs.get(m.organisation_id) if m.organisation_id else None,
                identities=tuple(sorted(identities.get(m.id, []))),
                profile_fetched_at=m.profile_fetched_at,
            )
            for m in members
        ]

    async def get(self, member_id: int) -> MemberRecord | None:
        row = await self.session.get(Member, member_id)
        return (await self._records([row]))[0] if row else None

    async def many(self, ids: Iterable[int]) -> dict[int, MemberRecord]:
        rows = list(await self.session.scalars(select(Member).where(Member.id.in_(list(ids)))))
        return {r.id: r for r in await self._records(rows)}

    async def by_identity(self, platform: str, user_id: str) -> MemberRecord | None:
        row = await self.session.scalar(
            select(Member).join(Identity, Identity.member_id == Member.id)
            .where(Identity.platform == platform, Identity.user_id == user_id))
        return (await self._records([row]))[0] if row else None

    async def by_email(self, email: str) -> MemberRecord | None:
        row = await self.session.scalar(select(Member).where(func.lower(Member.email) == email.lower()))
        return (await self._records([row]))[0] if row else None

    async def all(self) -> list[MemberRecord]:
        return await self._records(list(await self.session.scalars(select(Member).order_by(Member.name))))

    async def create(self, *, name: str, now: datetime, email: str | None = None, role: str = "",
                     title: str = "", organisation_id: int | None = None) -> int:
        row = Member(name=name, email=email, role=role, title=title, organisation_id=organisation_id,
                     created_at=now)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def link(self, member_id: int, platform: str, user_id: str) -> bool:
        """Attach a platform account; False when that account already belongs to someone."""
        return await insert_ignore(self.session, Identity.__table__,  # type: ignore[arg-type]
                                   [{"platform": platform, "user_id": user_id, "member_id": member_id}]) == 1

    async def move_identity(self, platform: str, user_id: str, member_id: int) -> None:
        await self.session.execute(update(Identity).where(
            Identity.platform == platform, Identity.user_id == user_id).values(member_id=member_id))

    async def update(self, member_id: int, **values: Any) -> None:
        allowed = {"name", "title", "email", "role", "organisation_id", "profile_fetched_at"}
        unknown = values.keys() - allowed
        if unknown:
            raise ValueError(f"unknown member fields {unknown}")
        await self.session.execute(update(Member).where(Member.id == member_id).values(**values))

    async def delete(self, member_id: int) -> None:
        await self.session.execute(delete(Member).where(Member.id == member_id))


class ExpertiseRepository:
    def __init__(self, session: AsyncSession, members: MemberRepository) -> None:
        self.session = session
        self.members = members

    @staticmethod
    def _holder_clause(holder: Holder) -> Any:
        if isinstance(holder, MemberRecord):
            return Expertise.member_id == holder.id
        return Expertise.organisation_id == holder.id

    async def _records(self, rows: Sequence[Expertise]) -> list[ExpertiseRecord]:
        members = await self.members.many({r.member_id for r in rows if r.member_id is not None})
        org_ids = {r.organisation_id for r in rows if r.organisation_id is not None}
        orgs = {o.id: _organisation(o) for o in await self.session.scalars(
            select(Organisation).where(Organisation.id.in_(org_ids)))} if org_ids else {}
        records = []
        for r in rows:
            holder: Holder = members[r.member_id] if r.member_id is not None else orgs[r.organisation_id or 0]
            records.append(ExpertiseRecord(
                id=r.id, holder=holder, topic=r.topic, topic_key=r.topic_key, description=r.description,
                created_at=r.created_at, confirmed_at=r.confirmed_at))
        return records

    async def get(self, expertise_id: int) -> ExpertiseRecord | None:
        row = await self.session.get(Expertise, expertise_id)
        return (await self._records([row]))[0] if row else None

    async def of_holder(self, holder: Holder) -> list[ExpertiseRecord]:
        rows = await self.session.scalars(
            select(Expertise).where(self._holder_clause(holder)).order_by(Expertise.topic_key))
        return await self._records(list(rows))

    async def save(self, *, holder: Holder, topic: str, topic_key: str, description: str,
                   terms: Mapping[str, float], now: datetime) -> bool:
        """Add the topic to the holder, or update and re-confirm it; True when it was new."""
        row = await self.session.scalar(
            select(Expertise).where(self._holder_clause(holder), Expertise.topic_key == topic_key))
        created = row is None
        if row is None:
            row = Expertise(topic_key=topic_key, created_at=now,
                            member_id=holder.id if isinstance(holder, MemberRecord) else None,
                            organisation_id=holder.id if isinstance(holder, OrganisationRecord) else None)
            self.session.add(row)
        row.topic, row.confirmed_at = topic, now
        if description or created:
            row.description = description
        await self.session.flush()
        if not created and description:
            await self.session.execute(delete(ExpertiseTerm).where(ExpertiseTerm.expertise_id == row.id))
        if created or description:
            await self.index(row.id, terms)
        return created

    async def index(self, expertise_id: int, terms: Mapping[str, float]) -> None:
        await insert_ignore(self.session, ExpertiseTerm.__table__,  # type: ignore[arg-type]
                            [{"expertise_id": expertise_id, "term": t, "weight": w} for t, w in terms.items()])
        await insert_ignore(self.session, SearchTerm.__table__,  # type: ignore[arg-type]
                            [{"term": t} for t in terms])

    async def remove(self, holder: Holder, topic_key: str) -> bool:
        result = await self.session.execute(
            delete(Expertise).where(self._holder_clause(holder), Expertise.topic_key == topic_key))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def confirm(self, expertise_id: int, now: datetime) -> None:
        await self.session.execute(update(Expertise).where(Expertise.id == expertise_id).values(confirmed_at=now))

    async def topic_counts(self) -> list[TopicCount]:
        rows = await self.session.execute(
            select(Expertise.topic_key, func.min(Expertise.topic),
                   func.count(Expertise.member_id), func.count(Expertise.organisation_id))
            .group_by(Expertise.topic_key)
            .order_by((func.count(Expertise.member_id) + func.count(Expertise.organisation_id)).desc(),
                      Expertise.topic_key))
        return [TopicCount(topic=t, topic_key=k, members=m, organisations=o) for k, t, m, o in rows]

    async def vocabulary_size(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(SearchTerm)) or 0)

    async def vocabulary(self) -> list[str]:
        return list(await self.session.scalars(select(SearchTerm.term).order_by(SearchTerm.term)))

    async def search(self, weights: Mapping[str, float], *, limit: int, offset: int = 0) -> SearchPage:
        """Holders ranked by the summed weight of their matching index terms.

        The work is done by the database on the `(term, expertise_id)` index; only one page of
        holders comes back, with the count of all of them.
        """
        if not weights:
            return SearchPage(hits=(), total=0)
        term_weight = case(weights, value=ExpertiseTerm.term, else_=literal(0.0))
        score = func.sum(ExpertiseTerm.weight * term_weight).label("score")
        ranked = await self.session.execute(
            select(Expertise.member_id, Expertise.organisation_id, score, func.count().over().label("total"))
            .join(Expertise, Expertise.id == ExpertiseTerm.expertise_id)
            .where(ExpertiseTerm.term.in_(list(weights)))
            .group_by(Expertise.member_id, Expertise.organisation_id)
            .order_by(score.desc(), func.max(Expertise.confirmed_at).desc(),
                      Expertise.member_id, Expertise.organisation_id)
            .limit(limit).offset(offset))
        page = ranked.all()
        if not page:
            total = 0 if offset == 0 else await self._count_holders(weights)
            return SearchPage(hits=(), total=total)
        member_ids = [r.member_id for r in page if r.member_id is not None]
        org_ids = [r.organisation_id for r in page if r.organisation_id is not None]
        entry_score = func.sum(ExpertiseTerm.weight * term_weight)
        matched = await self.session.execute(
            select(Expertise, entry_score)
            .join(ExpertiseTerm, ExpertiseTerm.expertise_id == Expertise.id)
            .where(ExpertiseTerm.term.in_(list(weights)),
                   or_(Expertise.member_id.in_(member_ids), Expertise.organisation_id.in_(org_ids)))
            .group_by(Expertise.id)
            .order_by(entry_score.desc(), Expertise.topic_key))
        rows = matched.all()
        records = dict(zip([r[0].id for r in rows], await self._records([r[0] for r in rows]), strict=True))
        by_holder: dict[tuple[int | None, int | None], list[ExpertiseRecord]] = {}
        for entry, _ in rows:
            by_holder.setdefault((entry.member_id, entry.organisation_id), []).append(records[entry.id])
        hits = tuple(
            HolderHit(holder=entries[0].holder, score=float(r.score), entries=tuple(entries))
            for r in page if (entries := by_holder.get((r.member_id, r.organisation_id)))
        )
        return SearchPage(hits=hits, total=int(page[0].total))

    async def _count_holders(self, weights: Mapping[str, float]) -> int:
        holders = (select(Expertise.member_id, Expertise.organisation_id)
                   .join(ExpertiseTerm, ExpertiseTerm.expertise_id == Expertise.id)
                   .where(ExpertiseTerm.term.in_(list(weights)))
                   .group_by(Expertise.member_id, Expertise.organisation_id).subquery())
        return int(await self.session.scalar(select(func.count()).select_from(holders)) or 0)


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, platform: str, delivery_id: str, now: datetime) -> bool:
        """Record a delivery; False when it was recorded before (a retry or a replay)."""
        return await insert_ignore(self.session, Delivery.__table__,  # type: ignore[arg-type]
                                   [{"platform": platform, "delivery_id": delivery_id,
                                     "received_at": now}]) == 1


class Repositories:
    """Every repository, sharing one session and so one transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.organisations = OrganisationRepository(session)
        self.members = MemberRepository(session)
        self.expertise = ExpertiseRepository(session, self.members)
        self.deliveries = DeliveryRepository(session)



