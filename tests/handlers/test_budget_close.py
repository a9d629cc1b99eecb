"""The close of a budget round at its deadline, on SQLite and PostgreSQL: exactly once, also after a
restart, with a withdrawn pitch left out; the pitches' history and the result message with its chart."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.core.clock import ManualClock
from bot.core.reply import File, Item, reply_from_json
from handlers.budget.closing import CLOSE
from storage.models import OutboxMessage
from storage.proposals import PitchDraft
from storage.records import PlannedOccurrence
from tests.conftest import AMS, started_bot
from tests.support import add_member, add_organisation, run, text_of

DEADLINE = datetime(2026, 11, 27, 17, 0, tzinfo=AMS)


async def test_a_round_closes_once_after_a_restart_past_its_deadline(database_url: str, clock: ManualClock) -> None:
    async with started_bot(database_url, clock) as first:
        schools = [await add_organisation(first, f"School {i}") for i in range(10)]
        members = [await add_member(first, f"Lid {i}", organisation=s) for i, s in enumerate(schools)]
        now = clock.now()
        async with first.db.transaction() as repos:
            ids = [await repos.pitches.create(PitchDraft(title, "", "", "", "", cents, 0, (schools[0].id,)),
                                              submitter=members[0].id, meeting=None, now=now)
                   for title, cents in (("Groeiklas", 60_00), ("Gedrag", 40_00), ("Thuiszitters", 40_00),
                                        ("Ingetrokken", 10_00))]
            a, b, c, gone = ids
            number = await repos.budget.create(budget_cents=100_00, pitches=ids, electorate="schools", werkgebied="",
                                               secret=True, kind="approval", deadline=DEADLINE, channel="proposals",
                                               by=None, now=now)
            await repos.occurrences.schedule(PlannedOccurrence(f"{CLOSE}:{number}", CLOSE, DEADLINE,
                                                               {"round": number}))
            for i, school in enumerate(schools):
                choices = [a, b, gone] if i < 6 else [c]
                await repos.budget.cast(number, f"s:{school.id}", members[i].id, choices, now)
            assert await repos.pitches.move(gone, "ingetrokken", by=members[0].id, now=now,
                                            from_status=("ingediend",))
    clock.set(DEADLINE + timedelta(days=3))  # the bot was down over the weekend
    async with started_bot(database_url, clock) as second:
        assert await second.scheduler.run_due() == 1
        assert await second.scheduler.run_due() == 0  # exactly once
        async with second.db.transaction() as repos:
            closed = await repos.budget.get(number)
            messages = list(await repos.session.scalars(select(OutboxMessage).where(
                OutboxMessage.key == f"budget:{number}:result")))
        assert closed is not None and closed.closed_at == DEADLINE
        assert closed.result["funded"] == [a, c] and closed.result["greedy"] == [a, b]
        [message] = messages
        reply = reply_from_json(message.body)
        items = {p.title: p.lines[0].replace("\xa0", " ") for p in reply.parts if isinstance(p, Item)}
        assert items == {
            f"#{a} Groeiklas": "€ 60,00 · steun: 6 van 10 · toegekend",
            f"#{b} Gedrag": "€ 40,00 · steun: 6 van 10 · niet toegekend: het budget was op (de steunende stemmers "
                            "hadden hun aandeel al aan andere toegekende pitches besteed)",
            f"#{c} Thuiszitters": "€ 40,00 · steun: 4 van 10 · toegekend"}
        text = text_of(reply).replace("\xa0", " ")
        assert "Toegekend: € 100,00 van € 100,00; over: € 0,00." in text
        assert f"waren toegekend: #{a}, #{b}." in text
        assert "de bot stond uit bij de deadline" in text
        [chart] = [p for p in reply.parts if isinstance(p, File)]
        assert chart.mime == "image/png" and chart.data.startswith(b"\x89PNG")
        assert "Status: toegekend" in text_of(await run(second, f"/pitch {a}"))
        assert "Status: niet toegekend" in text_of(await run(second, f"/pitch {b}"))
        assert "Status: ingetrokken" in text_of(await run(second, f"/pitch {gone}"))


async def test_a_round_without_ballots_funds_nothing_and_says_so(database_url: str, clock: ManualClock) -> None:
    async with started_bot(database_url, clock) as bot:
        now = clock.now()
        async with bot.db.transaction() as repos:
            number = await repos.budget.create(budget_cents=100_00, pitches=[], electorate="members", werkgebied="",
                                               secret=True, kind="approval", deadline=DEADLINE, channel="proposals",
                                               by=None, now=now)
            await repos.occurrences.schedule(PlannedOccurrence(f"{CLOSE}:{number}", CLOSE, DEADLINE,
                                                               {"round": number}))
        clock.set(DEADLINE)
        assert await bot.scheduler.run_due() == 1
        async with bot.db.transaction() as repos:
            [message] = list(await repos.session.scalars(select(OutboxMessage).where(
                OutboxMessage.key == f"budget:{number}:result")))
        text = text_of(reply_from_json(message.body)).replace("\xa0", " ")
        assert "Er is niet gestemd: niets toegekend." in text and "over: € 100,00" in text
