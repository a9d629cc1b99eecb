"""Requests of members for a school or organisation, and the coordinators who decide them.

A member's school gives rights (the school's ballot, editing its pitches), so a member cannot set it
themself: they ask, a coordinator confirms (the member's school changes, in the same transaction) or
refuses. Every decision keeps who made it and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Member, Organisation, SchoolRequest
from storage.records import OrganisationRecord

OPEN, CONFIRMED, REFUSED, REPLACED = "open", "confirmed", "refused", "replaced"


@dataclass(frozen=True)
class SchoolRequestRecord:
    id: int
    member_id: int
    member_name: str
    current: str  # the member's school now ("" for none)
    organisation: OrganisationRecord  # the school asked for
    state: str
    requested_at: datetime


class SchoolRequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _records(self, where: object, limit: int = 100) -> list[SchoolRequestRecord]:
        current = aliased(Organisation)
        rows = await self.session.execute(
            select(SchoolRequest, Member.name, current.name, Organisation)
            .join(Member, Member.id == SchoolRequest.member_id)
            .join(Organisation, Organisation.id == SchoolRequest.organisation_id)
            .outerjoin(current, current.id == Member.organisation_id)
            .where(where).order_by(SchoolRequest.id).limit(limit))  # type: ignore[arg-type]
        return [SchoolRequestRecord(r.id, r.member_id, name, current_name or "",
                                    OrganisationRecord(o.id, o.name, o.kind, o.werkgebied), r.state, r.requested_at)
                for r, name, current_name, o in rows]

    async def ask(self, member_id: int, organisation_id: int, now: datetime) -> int:
        """A new open request; an open one of the same member is replaced by it."""
        await self.withdraw(member_id, now)
        row = SchoolRequest(member_id=member_id, organisation_id=organisation_id, state=OPEN, requested_at=now)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def withdraw(self, member_id: int, now: datetime) -> None:
        await self.session.execute(update(SchoolRequest).where(
            SchoolRequest.member_id == member_id, SchoolRequest.state == OPEN).values(state=REPLACED, decided_at=now))

    async def get(self, request_id: int) -> SchoolRequestRecord | None:
        found = await self._records(SchoolRequest.id == request_id)
        return found[0] if found else None

    async def open(self, member_id: int | None = None, limit: int = 50) -> list[SchoolRequestRecord]:
        where = SchoolRequest.state == OPEN
        if member_id is not None:
            where = where & (SchoolRequest.member_id == member_id)
        return await self._records(where, limit)

    async def decide(self, request_id: int, state: str, *, by: int, now: datetime) -> bool:
        """Mark an open request confirmed or refused; False when it was not open any more (decided by
        another coordinator meanwhile, or replaced). Confirming also sets the member's school: the caller
        does that, in the same transaction, through the member repository."""
        result = await self.session.execute(update(SchoolRequest).where(
            SchoolRequest.id == request_id, SchoolRequest.state == OPEN).values(state=state, decided_by=by,
                                                                                decided_at=now))
        return int(result.rowcount) == 1  # type: ignore[attr-defined]

