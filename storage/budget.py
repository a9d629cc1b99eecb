"""Budget rounds (issue 16) and their approval ballots: one ballot per voter, the last one counts.

The tables are declared here, beside their repository, on the shared `Base` (so the migrations and
the schema test see them); migration 0009_budget creates them (0016_ballot_kinds adds the circle).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime
from storage.statements import upsert_later


class BudgetRound(Base):
    """A trimester meeting's budget round: the budget, the pitches in it, who votes, until when."""

    __tablename__ = "budget_rounds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    budget_cents: Mapped[int] = mapped_column(BigInteger)
    pitches: Mapped[str] = mapped_column(Text)  # JSON list of pitch ids
    electorate: Mapped[str] = mapped_column(String(10))  # "members" or "schools"
    werkgebied: Mapped[str] = mapped_column(String(100))
    secret: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[str] = mapped_column(String(10))  # "approval" or "ranked"
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(255))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result: Mapped[str] = mapped_column(Text)  # JSON, "" while open
    circle: Mapped[str] = mapped_column(String(20), default="", server_default="")  # only this circle's members


class BudgetBallot(Base):
    """The ballot of one voter ("m:<member>" or "s:<organisation>"): the pitches they support."""

    __tablename__ = "budget_ballots"
    round_id: Mapped[int] = mapped_column(ForeignKey("budget_rounds.id", ondelete="CASCADE"), primary_key=True)
    voter: Mapped[str] = mapped_column(String(40), primary_key=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    choices: Mapped[str] = mapped_column(Text)  # JSON list of pitch ids (ranked: in order)
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class RoundRecord:
    id: int
    budget_cents: int
    pitches: tuple[int, ...]
    electorate: str
    werkgebied: str
    secret: bool
    kind: str
    deadline: datetime
    channel: str
    closed_at: datetime | None
    result: dict[str, Any]
    circle: str = ""


@dataclass(frozen=True)
class RoundBallot:
    voter: str
    member_id: int | None
    choices: tuple[int, ...]
    cast_at: datetime


def _round(row: BudgetRound) -> RoundRecord:
    return RoundRecord(row.id, row.budget_cents, tuple(json.loads(row.pitches)), row.electorate, row.werkgebied,
                       row.secret, row.kind, row.deadline, row.channel, row.closed_at,
                       json.loads(row.result) if row.result else {}, row.circle)


class BudgetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, *, budget_cents: int, pitches: Sequence[int], electorate: str, werkgebied: str,
                     secret: bool, kind: str, deadline: datetime, channel: str, by: int | None, now: datetime,
                     circle: str = "") -> int:
        row = BudgetRound(budget_cents=budget_cents, pitches=json.dumps(list(pitches)), electorate=electorate,
                          werkgebied=werkgebied, secret=secret, kind=kind, deadline=deadline, channel=channel,
                          created_by=by, created_at=now, result="", circle=circle)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def get(self, round_id: int, *, lock: bool = False, share: bool = False) -> RoundRecord | None:
        """The round; on PostgreSQL locked like a vote: `share` for a ballot, `lock` for the close."""
        query = select(BudgetRound).where(BudgetRound.id == round_id)
        if lock or share:
            query = query.with_for_update(read=not lock)
        row = await self.session.scalar(query)
        return _round(row) if row else None

    async def cast(self, round_id: int, voter: str, member_id: int, choices: Sequence[int], at: datetime) -> bool:
        """The voter's ballot; it replaces one cast earlier (the last counts), never one cast later."""
        return await upsert_later(self.session, BudgetBallot.__table__,  # type: ignore[arg-type]
                                  ("round_id", "voter"), {"round_id": round_id, "voter": voter, "member_id": member_id,
                                                          "choices": json.dumps(list(choices)), "cast_at": at},
                                  "cast_at")

    async def ballots(self, round_id: int) -> list[RoundBallot]:
        rows = await self.session.scalars(select(BudgetBallot).where(BudgetBallot.round_id == round_id)
                                          .order_by(BudgetBallot.voter))
        return [RoundBallot(b.voter, b.member_id, tuple(json.loads(b.choices)), b.cast_at) for b in rows]

    async def close(self, round_id: int, now: datetime, result: dict[str, Any]) -> bool:
        """Close an open round with its result; False when it was closed already."""
        outcome = await self.session.execute(update(BudgetRound).where(BudgetRound.id == round_id,
                                                                       BudgetRound.closed_at.is_(None))
                                             .values(closed_at=now, result=json.dumps(result)))
        return int(outcome.rowcount) == 1  # type: ignore[attr-defined]
