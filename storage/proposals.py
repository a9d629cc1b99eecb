"""Pitches (with their schools and every change of status) and votes (with one ballot per voter)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import CIRCLE_ROLES as CIRCLES
from storage import history
from storage.governance import CircleRepository
from storage.history import StatusEvent
from storage.models import Ballot, Member, Organisation, Pitch, PitchEvent, PitchSchool, Vote
from storage.records import OrganisationRecord
from storage.statements import upsert_later


@dataclass(frozen=True)
class PitchRecord:
    id: int
    title: str
    summary: str
    benefit: str
    amount_cents: int
    cofunding_cents: int
    theme: str
    contact: str
    submitter_id: int | None
    submitter_name: str
    schools: tuple[OrganisationRecord, ...]
    status: str
    meeting: date | None
    created_at: datetime


class PitchStatus(StrEnum):
    SUBMITTED = "ingediend"
    SCHEDULED = "geagendeerd"
    VOTING = "in_stemming"
    ACCEPTED = "aangenomen"
    REJECTED = "afgewezen"
    WITHDRAWN = "ingetrokken"
    GRANTED = "toegekend"  # by a budget round (handlers/budget), with its amount in the history
    NOT_GRANTED = "niet_toegekend"


PitchEventRecord = StatusEvent


@dataclass(frozen=True)
class VoteRecord:
    id: int
    question: str
    options: tuple[str, ...]
    electorate: str  # "members" or "schools"
    werkgebied: str
    secret: bool
    show_while_open: bool
    deadline: datetime
    quorum: int
    threshold: int
    pitch_id: int | None
    channel: str
    closed_at: datetime | None
    result: dict[str, Any]
    accepting_option: int | None = None  # with a pitch: the option whose win accepts it
    kind: str = "single"  # "single" (a button per option), "multiple" (at most max_choices), "ranked" (IRV)
    max_choices: int = 1


@dataclass(frozen=True)
class BallotRecord:
    voter: str
    member_id: int | None
    member_name: str
    option: int
    cast_at: datetime
    choices: tuple[int, ...] = ()  # multiple / ranked: every option chosen, in the voter's order


@dataclass(frozen=True)
class PitchDraft:
    """A pitch as its form gives it, every field checked (handlers/proposals/pitches.py)."""

    title: str
    summary: str
    benefit: str
    theme: str
    contact: str
    amount_cents: int
    cofunding_cents: int
    schools: tuple[int, ...]

    def columns(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "schools"}


@dataclass(frozen=True)
class VoteDraft:
    """A vote as its form gives it, every field checked (handlers/proposals/votes.py)."""

    question: str
    options: tuple[str, ...]
    electorate: str
    werkgebied: str
    secret: bool
    show_while_open: bool
    deadline: datetime
    quorum: int
    threshold: int
    accepting_option: int  # the option that accepts the pitch, when the vote is about one
    time_filled: bool  # the deadline was typed without a time: it closes at 17:00, and the answer says so
    kind: str = "single"
    max_choices: int = 1


class PitchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _records(self, rows: Sequence[Pitch]) -> list[PitchRecord]:
        ids = [p.id for p in rows]
        schools: dict[int, list[OrganisationRecord]] = {i: [] for i in ids}
        for pitch_id, org in await self.session.execute(
                select(PitchSchool.pitch_id, Organisation).join(Organisation,
                                                                Organisation.id == PitchSchool.organisation_id)
                .where(PitchSchool.pitch_id.in_(ids)).order_by(Organisation.name)):
            schools[pitch_id].append(OrganisationRecord(org.id, org.name, org.kind, org.werkgebied))
        names: dict[int, str] = {member_id: name for member_id, name in await self.session.execute(
            select(Member.id, Member.name).where(Member.id.in_({p.submitter_id for p in rows if p.submitter_id})))}
        return [PitchRecord(p.id, p.title, p.summary, p.benefit, p.amount_cents, p.cofunding_cents, p.theme, p.contact,
                            p.submitter_id, names.get(p.submitter_id or 0, ""), tuple(schools[p.id]), p.status,
                            p.meeting, p.created_at) for p in rows]

    async def get(self, pitch_id: int) -> PitchRecord | None:
        row = await self.session.get(Pitch, pitch_id)
        return (await self._records([row]))[0] if row else None

    async def by_ids(self, ids: Sequence[int]) -> list[PitchRecord]:
        """These pitches (those that exist), in the order of `ids`: one query for a budget round's pitches."""
        found = {p.id: p for p in await self._records((await self.session.scalars(
            select(Pitch).where(Pitch.id.in_(ids)))).all())}
        return [found[i] for i in ids if i in found]

    async def listing(self, status: str | None = None, limit: int = 50) -> list[PitchRecord]:
        query = select(Pitch).order_by(Pitch.id.desc()).limit(limit)
        if status:
            query = query.where(Pitch.status == status)
        return await self._records((await self.session.scalars(query)).all())

    async def create(self, draft: PitchDraft, *, submitter: int, meeting: date | None, now: datetime) -> int:
        pitch = Pitch(**draft.columns(), submitter_id=submitter, status=PitchStatus.SUBMITTED,
                      meeting=meeting, created_at=now, updated_at=now)
        self.session.add(pitch)
        await self.session.flush()
        self.session.add_all(PitchSchool(pitch_id=pitch.id, organisation_id=o) for o in set(draft.schools))
        self.session.add(PitchEvent(pitch_id=pitch.id, status=PitchStatus.SUBMITTED, actor_id=submitter, at=now,
                                    note=""))
        await self.session.flush()
        return pitch.id

    async def edit(self, pitch_id: int, draft: PitchDraft, *, by: int, now: datetime) -> None:
        await self.session.execute(update(Pitch).where(Pitch.id == pitch_id).values(**draft.columns(), updated_at=now))
        await self.session.execute(delete(PitchSchool).where(PitchSchool.pitch_id == pitch_id))
        self.session.add_all(PitchSchool(pitch_id=pitch_id, organisation_id=o) for o in set(draft.schools))
        self.session.add(PitchEvent(pitch_id=pitch_id, status="gewijzigd", actor_id=by, at=now, note=""))
        await self.session.flush()

    async def move(self, pitch_id: int, status: str, *, by: int | None, now: datetime, from_status: Sequence[str],
                   meeting: date | None = None, note: str = "") -> bool:
        """Change the status if it is one of `from_status` (False otherwise, and nothing changes)."""
        values = {"meeting": meeting} if meeting is not None else {}
        return await history.move(self.session, Pitch, PitchEvent, "pitch_id", pitch_id, status, by=by, now=now,
                                  from_status=from_status, note=note, **values)

    async def history(self, pitch_id: int) -> list[PitchEventRecord]:
        return await history.history(self.session, PitchEvent, "pitch_id", pitch_id)


def _vote(row: Vote) -> VoteRecord:
    return VoteRecord(row.id, row.question, tuple(json.loads(row.options)), row.electorate, row.werkgebied, row.secret,
                      row.show_while_open, row.deadline, row.quorum, row.threshold, row.pitch_id, row.channel,
                      row.closed_at, json.loads(row.result) if row.result else {}, row.accepting_option, row.kind,
                      row.max_choices)


def _ballot(ballot: Ballot, name: str | None) -> BallotRecord:
    return BallotRecord(ballot.voter, ballot.member_id, name or "", ballot.option, ballot.cast_at,
                        tuple(json.loads(ballot.choices)) if ballot.choices else (ballot.option,))


class VoteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._shared: dict[int, VoteRecord] = {}  # read `FOR SHARE` in this transaction (locked until it ends)

    async def create(self, draft: VoteDraft, *, pitch_id: int | None, channel: str, by: int, now: datetime) -> int:
        vote = Vote(question=draft.question, options=json.dumps(list(draft.options), ensure_ascii=False),
                    electorate=draft.electorate, werkgebied=draft.werkgebied, secret=draft.secret,
                    show_while_open=draft.show_while_open, deadline=draft.deadline, quorum=draft.quorum,
                    threshold=draft.threshold, pitch_id=pitch_id,
                    accepting_option=draft.accepting_option if pitch_id is not None else None,
                    channel=channel, created_by=by, created_at=now, result="", kind=draft.kind,
                    max_choices=draft.max_choices)
        self.session.add(vote)
        await self.session.flush()
        return vote.id

    async def get(self, vote_id: int, *, lock: bool = False, share: bool = False) -> VoteRecord | None:
        """The vote; on PostgreSQL its row locked until the transaction ends: `share` for a ballot (ballots
        do not wait for each other), `lock` for the close (which waits for the ballots under way, and
        they for it), so that no ballot slips in beside the close."""
        if share and not lock and (kept := self._shared.get(vote_id)) is not None:
            return kept  # a group of ballots in one transaction: read (and locked) once
        self._shared.clear()
        query = select(Vote).where(Vote.id == vote_id)
        if lock or share:
            query = query.with_for_update(read=not lock)
        row = await self.session.scalar(query)
        if row is not None and share and not lock:
            self._shared[vote_id] = _vote(row)
        return _vote(row) if row else None

    async def listing(self, limit: int = 30) -> list[VoteRecord]:
        return [_vote(v) for v in await self.session.scalars(select(Vote).order_by(Vote.id.desc()).limit(limit))]

    async def cast(self, vote_id: int, voter: str, member_id: int, option: int, at: datetime,
                   choices: Sequence[int] = ()) -> bool:
        """The voter's ballot, cast at `at`; it replaces one cast earlier (the last counts), not one cast
        later (a press that was handled late). False when a later ballot was there already. `choices`: a
        ballot of several options (or a ranking), `option` then its first."""
        return await upsert_later(self.session, Ballot.__table__, ("vote_id", "voter"),  # type: ignore[arg-type]
                                  {"vote_id": vote_id, "voter": voter, "member_id": member_id, "option": option,
                                   "cast_at": at, "choices": json.dumps(list(choices)) if choices else ""}, "cast_at")

    async def ballot(self, vote_id: int, voter: str) -> BallotRecord | None:
        row = (await self.session.execute(select(Ballot, Member.name).outerjoin(Member, Member.id == Ballot.member_id)
                                          .where(Ballot.vote_id == vote_id, Ballot.voter == voter))).first()
        if row is None:
            return None
        ballot, name = row
        return _ballot(ballot, name)

    async def tally(self, vote_id: int) -> dict[int, int]:
        rows = await self.session.execute(select(Ballot.option, func.count()).where(Ballot.vote_id == vote_id)
                                          .group_by(Ballot.option))
        return {option: int(count) for option, count in rows}

    async def ballots(self, vote_id: int) -> list[BallotRecord]:
        rows = await self.session.execute(select(Ballot, Member.name).outerjoin(Member, Member.id == Ballot.member_id)
                                          .where(Ballot.vote_id == vote_id).order_by(Member.name))
        return [_ballot(b, name) for b, name in rows]

    async def close(self, vote_id: int, now: datetime, result: dict[str, Any]) -> bool:
        """Close an open vote with its result; False when it was closed already."""
        self._shared.clear()
        outcome = await self.session.execute(update(Vote).where(Vote.id == vote_id, Vote.closed_at.is_(None))
                                             .values(closed_at=now, result=json.dumps(result, ensure_ascii=False)))
        return int(outcome.rowcount) == 1  # type: ignore[attr-defined]

    async def electorate(self, vote: VoteRecord) -> dict[str, list[int]]:
        """Who may vote: voter key → the members who may cast that ballot."""
        query = select(Member.id, Member.organisation_id, Organisation.werkgebied, Organisation.kind).outerjoin(
            Organisation, Organisation.id == Member.organisation_id).where(Member.erased_at.is_(None))
        voters: dict[str, list[int]] = {}
        circle = await CircleRepository(self.session).member_ids(vote.electorate) if vote.electorate in CIRCLES \
            else None  # a vote of one circle: its members as the platform says
        for member_id, org_id, werkgebied, kind in await self.session.execute(query):
            if vote.werkgebied and (werkgebied or "").casefold() != vote.werkgebied.casefold():
                continue
            if circle is not None and member_id not in circle:
                continue
            if vote.electorate == "schools":
                if org_id is None or kind not in SCHOOL_KINDS:
                    continue
                voters.setdefault(f"s:{org_id}", []).append(member_id)
            else:
                voters[f"m:{member_id}"] = [member_id]
        return voters


SCHOOL_KINDS = frozenset({"school", "sbo", "so", "vo"})
