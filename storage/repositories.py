"""Repositories: the queries the features need, each returning plain records.

One `Repositories` object wraps one session, i.e. one transaction; the dispatcher makes one
per input.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CTE,
    Float,
    Integer,
    String,
    Subquery,
    bindparam,
    delete,
    distinct,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.accounts import members_of_accounts, recent_members
from storage.budget import BudgetRepository
from storage.changes import BEGUN, EXPERTISE, MEMBER, ORGANISATION, PEEK, SEARCH_STATE, search_changed
from storage.circles import IdeaRepository
from storage.governance import CircleRepository, CoordinatorRepository, PendingShareRepository
from storage.models import (
    Delivery,
    Expertise,
    ExpertiseTerm,
    Identity,
    Member,
    Organisation,
    SearchState,
    SearchTerm,
)
from storage.overview import OverviewRepository
from storage.privacy import PrivacyRepository
from storage.proposals import PitchRepository, VoteRepository
from storage.records import (
    ExpertiseRecord,
    Holder,
    HolderHit,
    MemberRecord,
    OrganisationRecord,
    SearchPage,
    TopicCount,
)
from storage.scheduling import Happened, MeetingRepository, OccurrenceRepository, OutboxRepository
from storage.schools import SchoolRequestRepository
from storage.session import FirstUse
from storage.statements import insert_ignore

StateSnapshot = tuple[int, int]  # (version, vocabulary size)
# search_changed (storage.changes): every write that changes what a search shows names what it
# changed: expertise, and the names, schools, accounts and organisations of the people it lists
__all__ = ["BEGUN", "PEEK", "SEARCH_STATE", "search_changed"]


Ranking = list[tuple[int | None, int | None, float]]  # (member_id, organisation_id, score), best first


def query_rows(weights: Mapping[str, float], groups: Sequence[Collection[str]]) -> list[tuple[str, float, int | None]]:
    """(term, weight, group) per term of a query: a term in several groups is listed once per group but
    weighs only once; a term in no group has no group."""
    rows: list[tuple[str, float, int | None]] = []
    weighed: set[str] = set()
    for number, group in enumerate(groups):
        for term in group:
            if term in weights:
                rows.append((term, 0.0 if term in weighed else float(weights[term]), number))
                weighed.add(term)
    return rows + [(term, float(weight), None) for term, weight in weights.items() if term not in weighed]


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
        if created or (row.name, row.kind, row.werkgebied) != (name, kind, werkgebied):
            row.name, row.kind, row.werkgebied = name, kind, werkgebied
            await self.session.flush()
            await search_changed(self.session, ORGANISATION, row.id)
        return _organisation(row), created


class MemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _load(self, where: Any, order: Any = None) -> list[MemberRecord]:
        """Members with their organisation (one statement) and their accounts (a second)."""
        query = select(Member, Organisation).outerjoin(Organisation, Organisation.id == Member.organisation_id)
        rows = (await self.session.execute(query.where(where).order_by(order))).all()
        if not rows:
            return []
        identities: dict[int, list[tuple[str, str]]] = {}
        for ident in await self.session.scalars(
                select(Identity).where(Identity.member_id.in_([m.id for m, _ in rows]))):
            identities.setdefault(ident.member_id, []).append((ident.platform, ident.user_id))
        return [
            MemberRecord(
                id=m.id, name=m.name, title=m.title, email=m.email, role=m.role,
                organisation=_organisation(org) if org else None,
                identities=tuple(sorted(identities.get(m.id, []))),
                profile_fetched_at=m.profile_fetched_at,
            )
            for m, org in rows
        ]

    async def get(self, member_id: int) -> MemberRecord | None:
        found = await self._load(Member.id == member_id)
        return found[0] if found else None

    async def many(self, ids: Iterable[int]) -> dict[int, MemberRecord]:
        return {r.id: r for r in await self._load(Member.id.in_(list(ids)))}

    async def by_identity(self, platform: str, user_id: str) -> MemberRecord | None:
        if (peeked := await members_of_accounts(self.session, platform, [user_id])) is not None:
            return peeked.get(user_id)
        found = await self._load(Member.id.in_(
            select(Identity.member_id).where(Identity.platform == platform, Identity.user_id == user_id)))
        return found[0] if found else None

    async def recent(self, most: int) -> dict[tuple[str, str], tuple[MemberRecord, bool]]:
        """The members seen most recently (up to `most`) by platform account, with the account's coordinator rights."""
        return await recent_members(self.session, most)

    async def by_identities(self, platform: str, user_ids: Collection[str]) -> dict[str, MemberRecord]:
        """The members of many accounts at once (a group of inputs), by user id; accounts without one left out."""
        if (peeked := await members_of_accounts(self.session, platform, user_ids)) is not None:
            return peeked
        accounts = dict((await self.session.execute(select(Identity.user_id, Identity.member_id).where(
            Identity.platform == platform, Identity.user_id.in_(list(user_ids))))).all())
        members = await self.many(accounts.values()) if accounts else {}
        return {user_id: members[member_id] for user_id, member_id in accounts.items() if member_id in members}

    async def by_email(self, email: str) -> MemberRecord | None:
        found = await self._load(func.lower(Member.email) == email.lower())
        return found[0] if found else None

    async def all(self) -> list[MemberRecord]:
        """Every member but the forgotten ones (pseudonyms, kept only for history)."""
        return await self._load(Member.erased_at.is_(None), Member.name)

    async def create(self, *, name: str, now: datetime, email: str | None = None, role: str = "",
                     title: str = "", organisation_id: int | None = None) -> int:
        row = Member(name=name, email=email, role=role, title=title, organisation_id=organisation_id,
                     created_at=now)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def of_account(self, platform: str, user_id: str, *, name: str, now: datetime) -> MemberRecord:
        """The member behind a platform account, made on first contact (named as the platform said).

        Two first contacts at once make one member: the account's unique key decides, and the one that
        lost removes the member it made.
        """
        found = await self.by_identity(platform, user_id)
        if found is not None:
            return found
        member_id = await self.create(name=name or user_id, now=now)
        if not await self.link(member_id, platform, user_id):
            await self.delete(member_id)
        made = await self.by_identity(platform, user_id)
        assert made is not None
        return made

    async def link(self, member_id: int, platform: str, user_id: str) -> bool:
        """Attach a platform account; False when that account already belongs to someone."""
        linked = await insert_ignore(self.session, Identity.__table__,  # type: ignore[arg-type]
                                     [{"platform": platform, "user_id": user_id, "member_id": member_id}]) == 1
        if linked:
            await search_changed(self.session, MEMBER, member_id)  # a listed member may have become mentionable
        return linked

    async def move_identity(self, platform: str, user_id: str, member_id: int) -> None:
        for owner in await self.session.scalars(select(Identity.member_id).where(
                Identity.platform == platform, Identity.user_id == user_id)):
            await search_changed(self.session, MEMBER, owner)
        await self.session.execute(update(Identity).where(
            Identity.platform == platform, Identity.user_id == user_id).values(member_id=member_id))
        await search_changed(self.session, MEMBER, member_id)

    async def update(self, member_id: int, **values: Any) -> None:
        allowed = {"name", "title", "email", "role", "organisation_id", "profile_fetched_at"}
        unknown = values.keys() - allowed
        if unknown:
            raise ValueError(f"unknown member fields {unknown}")
        await self.session.execute(update(Member).where(Member.id == member_id).values(**values))
        if values.keys() - {"profile_fetched_at"}:  # when the profile was fetched, no search shows
            await search_changed(self.session, MEMBER, member_id)

    async def delete(self, member_id: int) -> None:
        for entry_id in await self.session.scalars(select(Expertise.id).where(Expertise.member_id == member_id)):
            await search_changed(self.session, EXPERTISE, entry_id)  # their expertise goes with them
        await self.session.execute(delete(Member).where(Member.id == member_id))
        await search_changed(self.session, MEMBER, member_id)


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
        await search_changed(self.session, EXPERTISE, row.id)
        return created

    async def index(self, expertise_id: int, terms: Mapping[str, float]) -> None:
        self.session.info.pop(SEARCH_STATE, None)  # the vocabulary may grow
        await insert_ignore(self.session, ExpertiseTerm.__table__,  # type: ignore[arg-type]
                            [{"expertise_id": expertise_id, "term": t, "weight": w} for t, w in terms.items()])
        added = await insert_ignore(self.session, SearchTerm.__table__,  # type: ignore[arg-type]
                                    [{"term": t} for t in terms])
        if added:
            await self.session.execute(update(SearchState).values(terms=SearchState.terms + added))

    async def remove(self, holder: Holder, topic_key: str) -> bool:
        removed = list(await self.session.scalars(
            delete(Expertise).where(self._holder_clause(holder), Expertise.topic_key == topic_key)
            .returning(Expertise.id)))
        for entry_id in removed:
            await search_changed(self.session, EXPERTISE, entry_id)
        return bool(removed)

    async def confirm(self, expertise_id: int, now: datetime) -> None:
        await self.session.execute(update(Expertise).where(Expertise.id == expertise_id).values(confirmed_at=now))
        await search_changed(self.session, EXPERTISE, expertise_id)

    async def topic_counts(self) -> list[TopicCount]:
        rows = await self.session.execute(
            select(Expertise.topic_key, func.min(Expertise.topic),
                   func.count(Expertise.member_id), func.count(Expertise.organisation_id))
            .group_by(Expertise.topic_key)
            .order_by((func.count(Expertise.member_id) + func.count(Expertise.organisation_id)).desc(),
                      Expertise.topic_key))
        return [TopicCount(topic=t, topic_key=k, members=m, organisations=o) for k, t, m, o in rows]

    async def search_state(self) -> tuple[int, int]:
        """(version of what searches show, size of the vocabulary), read once per transaction.

        One round trip the first time (none on SQLite when the session has read nothing yet: see
        storage.db); again only after a write in this transaction changed it, then through the
        session, which alone sees its own writes.
        """
        info = self.session.info
        state: StateSnapshot | None = info.get(SEARCH_STATE)
        if state is None and PEEK in info and not info.get(BEGUN):
            # nothing read yet: whatever the session reads next is no older than this
            peeked = info[PEEK]()
            state = await peeked if inspect.isawaitable(peeked) else peeked
        if state is None:
            version, size = (await self.session.execute(select(SearchState.version, SearchState.terms))).one()
            state = (int(version), int(size))
        info[SEARCH_STATE] = state
        return state

    async def vocabulary(self) -> list[str]:
        return list(await self.session.scalars(select(SearchTerm.term).order_by(SearchTerm.term)))

    async def search(self, weights: Mapping[str, float], *, limit: int, offset: int = 0,
                     groups: Sequence[Collection[str]] = ()) -> SearchPage:
        """One page of holders ranked by the summed weight of their matching index terms."""
        ranking = await self.rank(weights, groups)
        return SearchPage(hits=await self.hits(ranking[offset:offset + limit], weights, groups), total=len(ranking))

    async def rank(self, weights: Mapping[str, float], groups: Sequence[Collection[str]] = ()) -> Ranking:
        """Every matching holder, best first: the costly part, which callers may cache per version.

        The work is done by the database on the `(term, expertise_id)` index. `groups` are, for a
        query of several words, the terms each word matches: then only the holders matching the
        most groups count (all of them when anyone matches all), so "passend onderwijs" does not
        list everyone who wrote "onderwijs". Terms of `weights` in no group add to the score but
        are not required.
        """
        if not weights:
            return []
        query, params = self._query_terms(weights, groups)
        ranked = self._ranked(query, list(weights), grouped=bool(groups))
        rows = await self.session.execute(
            select(ranked.c.member_id, ranked.c.organisation_id, ranked.c.score)
            .order_by(ranked.c.score.desc(), ranked.c.confirmed.desc(), ranked.c.member_id,
                      ranked.c.organisation_id), params)
        return [(member_id, organisation_id, float(score)) for member_id, organisation_id, score in rows]

    async def hits(self, page: Ranking, weights: Mapping[str, float],
                   groups: Sequence[Collection[str]] = ()) -> tuple[HolderHit, ...]:
        """The holders of one page of a ranking, each with their entries that matched, best first."""
        if not page:
            return ()
        query, params = self._query_terms(weights, groups)
        member_ids = [m for m, _, _ in page if m is not None]
        org_ids = [o for _, o, _ in page if o is not None]
        # The page's holders' entries (a few dozen, by the holder indexes; one query per kind of
        # holder, because an OR of the two lets SQLite fall back to a scan), then their matching
        # terms by primary key: never the thousands of rows the terms match in all.
        candidates: list[Expertise] = []
        if member_ids:
            candidates += await self.session.scalars(select(Expertise).where(Expertise.member_id.in_(member_ids)))
        if org_ids:
            candidates += await self.session.scalars(
                select(Expertise).where(Expertise.organisation_id.in_(org_ids)))
        scores: dict[int, float] = {entry_id: score for entry_id, score in await self.session.execute(
            select(ExpertiseTerm.expertise_id, func.sum(ExpertiseTerm.weight * query.c.weight))
            .join(query, query.c.term == ExpertiseTerm.term)
            .where(ExpertiseTerm.expertise_id.in_([e.id for e in candidates]))
            .group_by(ExpertiseTerm.expertise_id), params)}
        matched = sorted((e for e in candidates if e.id in scores), key=lambda e: (-scores[e.id], e.topic_key))
        by_holder: dict[tuple[int | None, int | None], list[ExpertiseRecord]] = {}
        for entry, record in zip(matched, await self._records(matched), strict=True):
            by_holder.setdefault((entry.member_id, entry.organisation_id), []).append(record)
        return tuple(
            HolderHit(holder=entries[0].holder, score=score, entries=tuple(entries))
            for member_id, organisation_id, score in page
            if (entries := by_holder.get((member_id, organisation_id)))
        )

    def _query_terms(self, weights: Mapping[str, float],
                     groups: Sequence[Collection[str]]) -> tuple[CTE, dict[str, Any]]:
        """The query's terms as rows (term, weight, grp), passed as one parameter.

        One parameter rather than a VALUES list keeps the statement the same for every query, so
        SQLAlchemy compiles it once (a VALUES list of 80 terms cost more to compile than SQLite
        needs to run it). A term in several groups is listed once per group but weighs only once;
        a term in no group has no grp.
        """
        rows = query_rows(weights, groups)
        if self.session.get_bind().dialect.name == "postgresql":
            unnest = func.unnest(bindparam("query_terms", type_=postgresql.ARRAY(String)),
                                 bindparam("query_weights", type_=postgresql.ARRAY(Float)),
                                 bindparam("query_groups", type_=postgresql.ARRAY(Integer)),
                                 ).table_valued("term", "weight", "grp").render_derived()
            terms = select(unnest.c.term, unnest.c.weight, unnest.c.grp).cte("query_terms")
            return terms, {"query_terms": [r[0] for r in rows], "query_weights": [r[1] for r in rows],
                           "query_groups": [r[2] for r in rows]}
        each = func.json_each(bindparam("query_terms", type_=String)).table_valued("value")
        terms = select(*(func.json_extract(each.c.value, f"$[{i}]").label(name)
                         for i, name in enumerate(("term", "weight", "grp")))).cte("query_terms")
        return terms, {"query_terms": json.dumps(rows)}

    @staticmethod
    def _ranked(query: CTE, terms: list[str], *, grouped: bool) -> Subquery:
        """Per matching holder: score, latest confirmation; with groups, only those matching the most."""
        words = func.count(distinct(query.c.grp))
        matched = (
            select(Expertise.member_id, Expertise.organisation_id,
                   func.sum(ExpertiseTerm.weight * query.c.weight).label("score"),
                   func.max(Expertise.confirmed_at).label("confirmed"))
            .select_from(ExpertiseTerm)
            .join(query, query.c.term == ExpertiseTerm.term)
            .join(Expertise, Expertise.id == ExpertiseTerm.expertise_id)
            .where(ExpertiseTerm.term.in_(terms))  # so the database starts from the index
            .group_by(Expertise.member_id, Expertise.organisation_id))
        if not grouped:
            return matched.subquery("ranked")
        counted = matched.add_columns(words.label("words"), func.max(words).over().label("best")).subquery("counted")
        return (select(counted.c.member_id, counted.c.organisation_id, counted.c.score, counted.c.confirmed)
                .where(counted.c.words == counted.c.best).subquery("ranked"))


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, platform: str, delivery_id: str, now: datetime) -> bool:
        """Record a delivery; False when it was recorded before (a retry or a replay)."""
        return await insert_ignore(self.session, Delivery.__table__,  # type: ignore[arg-type]
                                   [{"platform": platform, "delivery_id": delivery_id,
                                     "received_at": now}]) == 1

    async def claim_many(self, platform: str, delivery_ids: Collection[str], now: datetime) -> set[str]:
        """Record many deliveries in one statement; the ids recorded now (the others were handled before)."""
        if not delivery_ids:
            return set()
        rows = [{"platform": platform, "delivery_id": d, "received_at": now} for d in dict.fromkeys(delivery_ids)]
        result = await self.session.execute(_claims(self.session.get_bind().dialect.name), rows)
        return set(result.scalars())


@lru_cache(maxsize=2)
def _claims(database: str) -> Any:
    """Deliveries claimed, the new ones returned: built once, sent as one statement of many rows."""
    dialect = postgresql if database == "postgresql" else sqlite
    return dialect.insert(Delivery).on_conflict_do_nothing().returning(Delivery.delivery_id)


class Repositories:
    """Every repository, sharing one session and so one transaction; each made when first used (storage.session)."""

    organisations = FirstUse(OrganisationRepository)
    deliveries = FirstUse(DeliveryRepository)
    occurrences = FirstUse(OccurrenceRepository)
    meetings = FirstUse(MeetingRepository)
    pitches = FirstUse(PitchRepository)
    votes = FirstUse(VoteRepository)
    ideas = FirstUse(IdeaRepository)
    school_requests = FirstUse(SchoolRequestRepository)
    privacy = FirstUse(PrivacyRepository)
    pending = FirstUse(PendingShareRepository)
    coordinators = FirstUse(CoordinatorRepository)
    circles = FirstUse(CircleRepository)
    budget = FirstUse(BudgetRepository)
    overview = FirstUse(OverviewRepository)  # a member's overview (handlers/overview)

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.members = MemberRepository(session)  # (these three: every input)
        self.expertise = ExpertiseRepository(session, self.members)
        self.happened = Happened()  # collected here, routed after the commit (storage.db, bot/events.py)
        self.outbox = OutboxRepository(session, self.happened)



