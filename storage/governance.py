"""Governance: texts held back by the pupil-data check, coordinators and their log, circle membership."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.accounts import coordinator
from storage.changes import COORDINATOR, search_changed
from storage.models import CircleMember, Coordinator, CoordinatorAction, Identity, Member, PendingShare
from storage.statements import insert_ignore

KEEP_PENDING = timedelta(hours=1)  # a text held back by the pupil-data check, at most


@dataclass(frozen=True)
class CoordinatorRecord:
    platform: str
    user_id: str
    name: str  # the member behind the account, "" when the bot has not met them yet
    added_at: datetime


@dataclass(frozen=True)
class LogEntry:
    at: datetime
    name: str  # "" when the member is gone
    what: str
    outcome: str


class PendingShareRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(self, member_id: int, payload: str, now: datetime) -> str:
        key = uuid.uuid4().hex
        self.session.add(PendingShare(key=key, member_id=member_id, payload=payload, created_at=now))
        await self.session.flush()
        return key

    async def take(self, key: str, member_id: int) -> str | None:
        """The held-back payload, removed; None when it is gone or someone else's."""
        row = await self.session.get(PendingShare, key)
        if row is None or row.member_id != member_id:
            return None
        await self.session.delete(row)
        await self.session.flush()
        return row.payload

    async def prune(self, made_before: datetime) -> int:
        result = await self.session.execute(delete(PendingShare).where(PendingShare.created_at < made_before))
        return int(result.rowcount)  # type: ignore[attr-defined]


class CoordinatorRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._known: dict[tuple[str, str], bool] = {}  # read by `prime` in this transaction, until a write here

    async def prime(self, platform: str, user_ids: Collection[str]) -> None:
        """Read at once whether each of these accounts is a coordinator (a group of inputs: one statement, not
        one per input); kept for this transaction until it changes a coordinator."""
        found = set(await self.session.scalars(select(Coordinator.user_id).where(
            Coordinator.platform == platform, Coordinator.user_id.in_(list(user_ids)),
            Coordinator.removed_at.is_(None))))
        self._known |= {(platform, user_id): user_id in found for user_id in user_ids}

    async def seed(self, platform: str, user_id: str, now: datetime) -> None:
        """An account the environment names becomes a coordinator once; a removal in the bot is kept."""
        self._known.clear()
        if await insert_ignore(self.session, Coordinator.__table__,  # type: ignore[arg-type]
                               [{"platform": platform, "user_id": user_id, "added_by": None, "added_at": now,
                                 "removed_at": None}]):
            await search_changed(self.session, COORDINATOR)  # rights kept in memory are read again

    async def is_coordinator(self, platform: str, user_id: str) -> bool:
        if (known := self._known.get((platform, user_id))) is not None:
            return known
        if (peeked := await coordinator(self.session, platform, user_id)) is not None:
            return peeked
        found = await self.session.scalar(select(exists().where(
            Coordinator.platform == platform, Coordinator.user_id == user_id, Coordinator.removed_at.is_(None))))
        return bool(found)

    async def add(self, platform: str, user_id: str, by: int, now: datetime) -> bool:
        """True when the account was not a coordinator yet."""
        self._known.clear()
        if await self.is_coordinator(platform, user_id):
            return False
        row = await self.session.get(Coordinator, (platform, user_id))
        if row is None:
            self.session.add(Coordinator(platform=platform, user_id=user_id, added_by=by, added_at=now))
        else:
            row.added_by, row.added_at, row.removed_at = by, now, None
        await self.session.flush()
        await search_changed(self.session, COORDINATOR)
        return True

    async def remove(self, platform: str, user_id: str, now: datetime) -> bool:
        self._known.clear()
        result = await self.session.execute(update(Coordinator).where(
            Coordinator.platform == platform, Coordinator.user_id == user_id, Coordinator.removed_at.is_(None),
        ).values(removed_at=now))
        if result.rowcount:  # type: ignore[attr-defined]
            await search_changed(self.session, COORDINATOR)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def active(self) -> list[CoordinatorRecord]:
        rows = await self.session.execute(
            select(Coordinator.platform, Coordinator.user_id, Member.name, Coordinator.added_at)
            .outerjoin(Identity, and_(Identity.platform == Coordinator.platform,
                                      Identity.user_id == Coordinator.user_id))
            .outerjoin(Member, Member.id == Identity.member_id)
            .where(Coordinator.removed_at.is_(None)).order_by(Coordinator.added_at, Coordinator.user_id))
        return [CoordinatorRecord(p, u, n or "", a) for p, u, n, a in rows]

    async def member_ids(self, seeded: Callable[[str, str], bool]) -> list[int]:
        """The members behind active coordinator accounts, and behind accounts the environment names
        (`seeded`) that were never seeded yet (they become coordinators at their first contact; a removal
        sticks): whom to tell what coordinators must know."""
        rows = await self.session.execute(
            select(Identity.member_id, Identity.platform, Identity.user_id, Coordinator.platform,
                   Coordinator.removed_at)
            .outerjoin(Coordinator, and_(Coordinator.platform == Identity.platform,
                                         Coordinator.user_id == Identity.user_id)))
        return sorted({member for member, platform, user_id, known, removed in rows
                       if (removed is None if known is not None else seeded(platform, user_id))})

    async def log(self, member_id: int, what: str, outcome: str, now: datetime) -> None:
        self.session.add(CoordinatorAction(at=now, member_id=member_id, what=what[:200], outcome=outcome[:300]))
        await self.session.flush()

    async def entries(self, limit: int | None = None) -> list[LogEntry]:
        query = (select(CoordinatorAction.at, Member.name, CoordinatorAction.what, CoordinatorAction.outcome)
                 .outerjoin(Member, Member.id == CoordinatorAction.member_id)
                 .order_by(CoordinatorAction.at.desc(), CoordinatorAction.id.desc()))
        if limit is not None:
            query = query.limit(limit)
        rows = await self.session.execute(query)
        return [LogEntry(at, name or "", what, outcome) for at, name, what, outcome in rows]


class CircleRepository:
    """Who is in which circle, kept as the platform says: a full list replaces, a join or leave adjusts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def replace(self, circle: str, platform: str, user_ids: Iterable[str], now: datetime) -> None:
        wanted = set(user_ids)
        await self.session.execute(delete(CircleMember).where(
            CircleMember.circle == circle, CircleMember.platform == platform, CircleMember.user_id.not_in(wanted)))
        await insert_ignore(self.session, CircleMember.__table__,  # type: ignore[arg-type]
                            [{"circle": circle, "platform": platform, "user_id": u, "since": now}
                             for u in sorted(wanted)])

    async def joined(self, circle: str, platform: str, user_id: str, now: datetime) -> None:
        await insert_ignore(self.session, CircleMember.__table__,  # type: ignore[arg-type]
                            [{"circle": circle, "platform": platform, "user_id": user_id, "since": now}])

    async def left(self, circle: str, platform: str, user_id: str) -> None:
        await self.session.execute(delete(CircleMember).where(
            CircleMember.circle == circle, CircleMember.platform == platform, CircleMember.user_id == user_id))

    async def known(self, circle: str, platform: str) -> bool:
        """Whether the bot knows the circle's members on the platform (before the first list, nobody is refused)."""
        return bool(await self.session.scalar(select(exists().where(CircleMember.circle == circle,
                                                                    CircleMember.platform == platform))))

    async def is_member(self, circle: str, member_id: int) -> bool:
        return bool(await self.session.scalar(select(exists().where(
            CircleMember.circle == circle, Identity.platform == CircleMember.platform,
            Identity.user_id == CircleMember.user_id, Identity.member_id == member_id))))

    async def member_ids(self, circle: str) -> set[int]:
        rows = await self.session.scalars(select(Identity.member_id).join(CircleMember, and_(
            Identity.platform == CircleMember.platform, Identity.user_id == CircleMember.user_id))
            .where(CircleMember.circle == circle))
        return set(rows)
