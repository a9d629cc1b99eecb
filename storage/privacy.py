"""A member's data: everything the bot holds about one member (for `mijn gegevens`), forgetting a member
(pseudonymised, decisions intact), and retention (what is kept how long). See PRIVACY.md.

Forgetting has two layers. The first knows the schema: accounts, expertise, direct rooms, a departed
member's ballot in a vote still running, the addresses of their messages are removed; the member row
stays as a pseudonym (name "een voormalig lid", nothing else), so a closed vote keeps its counts and
history keeps its shape. The second knows nothing: it scans every text column of every table (also
tables added later) for the member's name, e-mail and platform ids, and replaces them by the pseudonym.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.changes import search_changed
from storage.circles import DONE
from storage.models import (
    AgendaItem,
    Ballot,
    Base,
    Delivery,
    Expertise,
    Idea,
    IdeaEvent,
    Identity,
    MatrixButtons,
    MatrixDirectRoom,
    MeetingChange,
    Member,
    Organisation,
    OutboxMessage,
    Pitch,
    PitchEvent,
    PitchSchool,
    SeriesSettings,
    Vote,
)
from storage.teams import TeamsConversation

# rewrites an outbox body (a reply as JSON) without the member: (body, needles, their platform ids) → body
OutboxScrub = Callable[[str, list[str], list[str]], str]
MIN_NEEDLE = 3  # shorter names ("Jo") would scrub ordinary words; their accounts and e-mail still go


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def needles(name: str, email: str | None, user_ids: Iterable[str]) -> list[str]:
    """What identifies a member in free text: name, e-mail, platform ids, also as JSON escapes them."""
    found = {n for n in (name.strip(), (email or "").strip(), *user_ids) if len(n) >= MIN_NEEDLE}
    found |= {json.dumps(n)[1:-1] for n in found}  # "Zoë" as \u00eb in JSON written with ensure_ascii
    return sorted(found, key=len, reverse=True)


def scrub(text: str, found: Sequence[str], label: str) -> str:
    """`text` with every whole occurrence of a needle (case ignored) replaced by `label`."""
    for needle in found:
        text = re.sub(rf"(?<![\w]){re.escape(needle)}(?![\w])", label, text, flags=re.IGNORECASE)
    return text


@dataclass(frozen=True)
class Erased:
    member_id: int
    rows_changed: int  # rows of other members' data where the member's name or ids were replaced


class PrivacyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- seen ----------------------------------------------------------------------------------------

    async def seen(self, member_id: int, now: datetime) -> None:
        """The member used the bot today (the dispatcher calls it at most once a day per member)."""
        await self.session.execute(update(Member).where(Member.id == member_id).values(last_seen_at=now))

    async def seen_many(self, member_ids: Collection[int], now: datetime) -> None:
        """`seen` for the members of a group of inputs, in one statement."""
        if member_ids:
            await self.session.execute(update(Member).where(Member.id.in_(sorted(member_ids))).values(last_seen_at=now))

    async def inactive(self, since: datetime) -> list[tuple[int, str, datetime]]:
        """Members (not forgotten) not seen since `since`: (id, name, last seen or joined), longest first."""
        last = func.coalesce(Member.last_seen_at, Member.created_at)
        rows = await self.session.execute(select(Member.id, Member.name, last).where(
            Member.erased_at.is_(None), last < since).order_by(last, Member.id))
        return [(int(i), str(n), moment) for i, n, moment in rows]

    async def became_inactive(self, since: datetime, until: datetime) -> int:
        """How many members were last seen in [since, until): those who crossed the line today."""
        last = func.coalesce(Member.last_seen_at, Member.created_at)
        return int(await self.session.scalar(select(func.count()).select_from(Member).where(
            Member.erased_at.is_(None), last >= since, last < until)) or 0)

    async def erased(self, member_id: int) -> bool:
        return await self.session.scalar(select(Member.erased_at).where(Member.id == member_id)) is not None

    # -- export --------------------------------------------------------------------------------------

    async def export(self, member_id: int) -> dict[str, Any]:
        """Everything the bot holds about the member, as plain JSON-able data (Dutch keys: it is theirs)."""
        s = self.session
        member = await s.get(Member, member_id)
        assert member is not None
        org = await s.get(Organisation, member.organisation_id) if member.organisation_id else None
        identities = list(await s.scalars(select(Identity).where(Identity.member_id == member_id)))
        matrix_ids = [i.user_id for i in identities if i.platform == "matrix"]
        rooms = list(await s.scalars(select(MatrixDirectRoom).where(MatrixDirectRoom.user_id.in_(matrix_ids))))
        data: dict[str, Any] = {
            "profiel": {"naam": member.name, "functie": member.title, "e-mail": member.email, "rol": member.role,
                        "school_of_organisatie": org.name if org else None,
                        "werkgebied": org.werkgebied if org else None, "lid_sinds": _iso(member.created_at),
                        "laatst_gezien": _iso(member.last_seen_at),
                        "profiel_opgehaald": _iso(member.profile_fetched_at)},
            "accounts": [{"platform": i.platform, "gebruiker": i.user_id} for i in identities]
            + [{"platform": "matrix", "direct_gesprek": r.room_id} for r in rooms],
        }
        data["expertise"] = [{"onderwerp": e.topic, "omschrijving": e.description, "sinds": _iso(e.created_at),
                              "bevestigd": _iso(e.confirmed_at)}
                             for e in await s.scalars(select(Expertise).where(Expertise.member_id == member_id)
                                                      .order_by(Expertise.topic_key))]
        pitches = []
        for p in await s.scalars(select(Pitch).where(Pitch.submitter_id == member_id).order_by(Pitch.id)):
            schools = list(await s.scalars(select(Organisation.name).join(
                PitchSchool, PitchSchool.organisation_id == Organisation.id).where(PitchSchool.pitch_id == p.id)))
            pitches.append({"nummer": p.id, "titel": p.title, "samenvatting": p.summary, "opbrengst": p.benefit,
                            "bedrag_centen": p.amount_cents, "cofinanciering_centen": p.cofunding_cents,
                            "thema": p.theme, "contact": p.contact, "status": p.status,
                            "overleg": p.meeting.isoformat() if p.meeting else None, "scholen": schools,
                            "ingediend": _iso(p.created_at)})
        data["pitches"] = pitches
        data["ideeen"] = [{"nummer": i.id, "thema": i.theme, "tekst": i.text, "status": i.status, "link": i.link,
                           "streefdatum": i.due.isoformat() if i.due else None, "aangemaakt": _iso(i.created_at),
                           "jouw_rol": [r for r, who in (("auteur", i.author_id), ("toegevoegd_door", i.added_by),
                                                          ("opgepakt_door", i.owner_id)) if who == member_id]}
                          for i in await s.scalars(select(Idea).where(or_(
                              Idea.author_id == member_id, Idea.added_by == member_id, Idea.owner_id == member_id))
                              .order_by(Idea.id))]
        data["agendapunten"] = [{"nummer": a.id, "overleg": a.series, "datum": a.planned.isoformat(), "tekst": a.text,
                                 "ingebracht": _iso(a.created_at), "verwijderd": _iso(a.removed_at)}
                                for a in await s.scalars(select(AgendaItem).where(AgendaItem.author_id == member_id)
                                                         .order_by(AgendaItem.id))]
        ballots = []
        for ballot, vote in await s.execute(select(Ballot, Vote).join(Vote, Vote.id == Ballot.vote_id).where(
                Ballot.member_id == member_id).order_by(Ballot.vote_id)):
            if vote.secret and vote.closed_at is not None:
                continue  # a secret ballot is shown to its voter only while the vote is open
            options = json.loads(vote.options)
            chosen = json.loads(ballot.choices) if ballot.choices else [ballot.option]
            ballots.append({"stemming": vote.id, "vraag": vote.question, "keuze": ", ".join(
                            options[i] if 0 <= i < len(options) else str(i) for i in chosen),
                            "namens": "school" if ballot.voter.startswith("s:") else "jezelf",
                            "geheim": vote.secret, "uitgebracht": _iso(ballot.cast_at)})
        data["stemmen"] = ballots
        history: list[dict[str, Any]] = []
        for vote in await s.scalars(select(Vote).where(Vote.created_by == member_id).order_by(Vote.id)):
            history.append({"wat": "stemming gestart", "nummer": vote.id, "vraag": vote.question,
                            "wanneer": _iso(vote.created_at)})
        for pe in await s.scalars(select(PitchEvent).where(PitchEvent.actor_id == member_id).order_by(PitchEvent.id)):
            history.append({"wat": f"pitch {pe.status}", "nummer": pe.pitch_id, "notitie": pe.note,
                            "wanneer": _iso(pe.at)})
        for ie in await s.scalars(select(IdeaEvent).where(IdeaEvent.actor_id == member_id).order_by(IdeaEvent.id)):
            history.append({"wat": f"idee {ie.status}", "nummer": ie.idea_id, "notitie": ie.note,
                            "wanneer": _iso(ie.at)})
        for mc in await s.scalars(select(MeetingChange).where(MeetingChange.changed_by == member_id)):
            history.append({"wat": "overleg verzet" if mc.moved_to else "overleg overgeslagen", "overleg": mc.series,
                            "datum": mc.planned.isoformat(), "reden": mc.skip_reason, "wanneer": _iso(mc.changed_at)})
        for ss in await s.scalars(select(SeriesSettings).where(SeriesSettings.changed_by == member_id)):
            history.append({"wat": "overleg ingesteld", "overleg": ss.series, "wanneer": _iso(ss.changed_at)})
        for a in await s.scalars(select(AgendaItem).where(AgendaItem.removed_by == member_id)):
            history.append({"wat": "agendapunt verwijderd", "nummer": a.id, "wanneer": _iso(a.removed_at)})
        data["geschiedenis"] = sorted(history, key=lambda h: h["wanneer"] or "")
        data["berichten_aan_jou"] = int(await s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.channel == f"member:{member_id}")) or 0)
        return data

    # -- forgetting ----------------------------------------------------------------------------------

    async def erase(self, member_id: int, *, label: str, now: datetime,
                    outbox_scrub: OutboxScrub | None = None) -> Erased:
        """Forget the member: see the module's docstring. `outbox_scrub(body, found, user_ids)` rewrites an
        outbox body (a reply as JSON) before the generic sweep; the caller knows the reply format."""
        s = self.session
        member = await s.get(Member, member_id)
        assert member is not None
        identities = list(await s.scalars(select(Identity).where(Identity.member_id == member_id)))
        user_ids = [i.user_id for i in identities]
        found = needles(member.name, member.email, user_ids)
        if user_ids:
            await s.execute(delete(MatrixDirectRoom).where(MatrixDirectRoom.user_id.in_(user_ids)))
            await s.execute(delete(MatrixButtons).where(MatrixButtons.user_id.in_(user_ids)))
            await s.execute(delete(TeamsConversation).where(TeamsConversation.user_id.in_(user_ids)))
            await s.execute(delete(Delivery).where(or_(*(Delivery.delivery_id.contains(u, autoescape=True)
                                                         for u in user_ids))))
        await s.execute(delete(Identity).where(Identity.member_id == member_id))
        await s.execute(delete(Expertise).where(Expertise.member_id == member_id))
        # their own ballot in a vote still running goes with them; a closed vote keeps its ballots (now
        # the pseudonym's) and its result; a school's ballot stays the school's
        running = select(Vote.id).where(Vote.closed_at.is_(None)).scalar_subquery()
        await s.execute(delete(Ballot).where(Ballot.voter == f"m:{member_id}", Ballot.vote_id.in_(running)))
        await s.execute(delete(OutboxMessage).where(OutboxMessage.channel == f"member:{member_id}"))
        await s.execute(update(Idea).where(Idea.author_id == member_id).values(source=None, link=""))
        if found:
            contact = or_(*(Pitch.contact.contains(n, autoescape=True) for n in found))
            await s.execute(update(Pitch).where(contact).values(contact=label))
        await s.execute(update(Member).where(Member.id == member_id).values(
            name=label, title="", email=None, role="", organisation_id=None, profile_fetched_at=None,
            last_seen_at=None, erased_at=now))
        changed = 0
        if outbox_scrub is not None and found:
            for row in await s.scalars(select(OutboxMessage).where(or_(*(
                    OutboxMessage.body.contains(n, autoescape=True) for n in found)))):
                body = outbox_scrub(row.body, found, user_ids)
                if body != row.body:
                    row.body, changed = body, changed + 1
            await s.flush()
        changed += await self.sweep(found, label)
        await search_changed(s)  # cached members and searches everywhere forget them
        return Erased(member_id, changed)

    async def sweep(self, found: Sequence[str], label: str) -> int:
        """Every text column of every table: each needle replaced by `label`; returns the rows changed."""
        if not found:
            return 0
        changed = 0
        for table in Base.metadata.sorted_tables:
            if table.name == Member.__tablename__:
                continue  # the member's own row is the pseudonym already; other members' names are theirs
            keys = list(table.primary_key.columns)
            for column in table.columns:
                if not isinstance(column.type, String) or column.primary_key:
                    continue
                hits = or_(*(or_(column.contains(n, autoescape=True),
                                 func.lower(column).contains(n.lower(), autoescape=True)) for n in found))
                for row in (await self.session.execute(select(*keys, column).where(hits))).all():
                    *key, text = row
                    new = scrub(text, found, label)
                    if new != text:
                        await self.session.execute(update(table).where(
                            and_(*(k == v for k, v in zip(keys, key, strict=True)))).values({column.name: new}))
                        changed += 1
        return changed

    # -- retention -----------------------------------------------------------------------------------

    async def forget_idea_texts(self, before: datetime, placeholder: str) -> int:
        """Finished ideas not touched since `before`: the copied message text and its address go."""
        rows = list(await self.session.scalars(select(Idea.id).where(
            Idea.status == DONE, Idea.updated_at < before, Idea.text != placeholder)))
        for idea_id in rows:
            await self.session.execute(update(Idea).where(Idea.id == idea_id).values(
                text=placeholder, source=None, link="",
                text_key=hashlib.sha256(f"vergeten:{idea_id}".encode()).hexdigest()))
        return len(rows)

    async def empty_outbox_bodies(self, before: datetime, empty: str) -> int:
        """Messages sent (or given up) before `before`: their copy of the text goes, the row (and the
        platform's id of the message, for threads) stays until it is pruned."""
        result = await self.session.execute(update(OutboxMessage).where(
            or_(OutboxMessage.sent_at < before, OutboxMessage.failed_at < before), OutboxMessage.body != empty)
            .values(body=empty, last_error=""))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def forget_ballots(self, open_before: datetime) -> int:
        """Ballots of closed votes: of a secret vote at once (its result holds the counts), of an open vote
        once it closed before `open_before`."""
        closed = select(Vote.id).where(Vote.closed_at.is_not(None), or_(
            Vote.secret.is_(True), Vote.closed_at < open_before)).scalar_subquery()
        result = await self.session.execute(delete(Ballot).where(Ballot.vote_id.in_(closed)))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def forget_deliveries(self, before: datetime) -> int:
        result = await self.session.execute(delete(Delivery).where(Delivery.received_at < before))
        return int(result.rowcount)  # type: ignore[attr-defined]
