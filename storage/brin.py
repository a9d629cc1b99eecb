"""Schools by their DUO key (BRIN number and vestiging), for the import of DUO's open data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Organisation


@dataclass(frozen=True)
class School:
    id: int
    name: str
    name_key: str
    kind: str
    brin: str | None


def _school(row: Organisation) -> School:
    return School(id=row.id, name=row.name, name_key=row.name_key, kind=row.kind, brin=row.brin)


class SchoolRegister:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> list[School]:
        return [_school(row) for row in await self.session.scalars(select(Organisation).order_by(Organisation.id))]

    async def save(self, *, school_id: int | None, name: str, name_key: str, kind: str, brin: str,
                   now: datetime) -> School:
        """Creates the school (school_id None) or sets its name, kind and BRIN code."""
        row = await self.session.get(Organisation, school_id) if school_id is not None else None
        if row is None:
            row = Organisation(name_key=name_key, werkgebied="", created_at=now)
            self.session.add(row)
        row.name, row.name_key, row.kind, row.brin = name, name_key, kind, brin
        await self.session.flush()
        return _school(row)
