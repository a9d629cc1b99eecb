"""What a member's overview (handlers/overview) reads that no other repository asks for: what is open to
vote on, a member's own pitches and ideas with their latest event, and the counts coordinators watch.

Every query is bounded (`limit`) or a count: the overview is rendered again whenever something changes
for whoever watches it, so it must stay cheap in a network of thousands.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.budget import BudgetBallot, BudgetRound, RoundRecord, _round
from storage.circles import NEW, PARKED
from storage.history import StatusEvent
from storage.models import Ballot, Idea, IdeaEvent, Pitch, PitchEvent, Vote
from storage.proposals import BallotRecord, PitchStatus, VoteRecord, _vote


class OverviewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_votes(self, now: datetime, limit: int) -> list[VoteRecord]:
        rows = await self.session.scalars(select(Vote).where(Vote.closed_at.is_(None), Vote.deadline > now)
                                          .order_by(Vote.deadline, Vote.id).limit(limit))
        return [_vote(row) for row in rows]

    async def open_rounds(self, now: datetime, limit: int) -> list[RoundRecord]:
        rows = await self.session.scalars(select(BudgetRound).where(BudgetRound.closed_at.is_(None),
                                                                    BudgetRound.deadline > now)
                                          .order_by(BudgetRound.deadline, BudgetRound.id).limit(limit))
        return [_round(row) for row in rows]

    async def vote_ballots(self, voters: Sequence[tuple[int, str]]) -> dict[int, BallotRecord]:
        """The ballots of these (vote, voter) pairs, by vote."""
        if not voters:
            return {}
        rows = await self.session.scalars(select(Ballot).where(Ballot.vote_id.in_([v for v, _ in voters])))
        wanted = set(voters)
        return {b.vote_id: BallotRecord(b.voter, b.member_id, "", b.option, b.cast_at)
                for b in rows if (b.vote_id, b.voter) in wanted}

    async def round_ballots(self, voters: Sequence[tuple[int, str]]) -> dict[int, tuple[int | None, tuple[int, ...]]]:
        """The (member who cast it, chosen pitches) of these (round, voter) pairs, by round."""
        if not voters:
            return {}
        rows = await self.session.scalars(select(BudgetBallot).where(
            BudgetBallot.round_id.in_([r for r, _ in voters])))
        wanted = set(voters)
        return {b.round_id: (b.member_id, tuple(json.loads(b.choices)))
                for b in rows if (b.round_id, b.voter) in wanted}

    async def own_pitches(self, member_id: int, limit: int) -> list[tuple[int, str, str, StatusEvent | None]]:
        """(number, title, status, latest event) of the member's pitches, newest first."""
        rows = (await self.session.execute(select(Pitch.id, Pitch.title, Pitch.status)
                                           .where(Pitch.submitter_id == member_id)
                                           .order_by(Pitch.id.desc()).limit(limit))).all()
        latest = await self._latest(PitchEvent, PitchEvent.pitch_id, [r[0] for r in rows])
        return [(number, title, status, latest.get(number)) for number, title, status in rows]

    async def own_ideas(self, member_id: int, limit: int) -> list[tuple[int, str, str, StatusEvent | None]]:
        """(number, text, status, latest event) of the member's ideas, newest first."""
        rows = (await self.session.execute(select(Idea.id, Idea.text, Idea.status)
                                           .where(Idea.author_id == member_id)
                                           .order_by(Idea.id.desc()).limit(limit))).all()
        latest = await self._latest(IdeaEvent, IdeaEvent.idea_id, [r[0] for r in rows])
        return [(number, text, status, latest.get(number)) for number, text, status in rows]

    async def _latest(self, event: type[PitchEvent] | type[IdeaEvent], subject: InstrumentedAttribute[int],
                      ids: list[int]) -> dict[int, StatusEvent]:
        """The newest event of each of `ids` (`subject`: the event's column naming its pitch or idea)."""
        if not ids:
            return {}
        newest = select(func.max(event.id)).where(subject.in_(ids)).group_by(subject)
        rows = await self.session.execute(select(subject, event.status, event.at, event.note)
                                          .where(event.id.in_(newest)))
        return {number: StatusEvent(status, "", at, note) for number, status, at, note in rows}

    async def waiting_ideas(self) -> int:
        """Ideas the inner circle has not taken up yet (new or parked)."""
        return int(await self.session.scalar(select(func.count()).select_from(Idea)
                                             .where(Idea.status.in_((NEW, PARKED)))) or 0)

    async def unscheduled_pitches(self) -> int:
        """Pitches submitted but not yet on a meeting's agenda."""
        return int(await self.session.scalar(select(func.count()).select_from(Pitch)
                                             .where(Pitch.status == PitchStatus.SUBMITTED)) or 0)
