"""`/netwerkbot vergeet mij` and a coordinator forgetting a member who left, on SQLite and PostgreSQL.

A member who did everything the bot offers (expertise, a pitch, ideas, an agenda point, ballots in open,
secret, per-school and running votes, messages that mention them, a Matrix direct room) is forgotten;
afterwards no column of any row of any table holds their name, e-mail or platform ids, every closed vote
shows the same result, and decisions keep their shape ("een voormalig lid")."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Bot
from bot.core.clock import ManualClock
from bot.core.inputs import Action, Actor, FormSubmission, Reaction
from bot.core.reply import Actions, File, Item, Mention, Reply, reply_to_json
from storage.models import Base, Delivery, MatrixButtons, MatrixDirectRoom, Vote
from tests.conftest import started_bot
from tests.support import actor, add_expertise, add_member, add_organisation, press, run, submit, text_of

OUTER = "C0BUITEN"
SANNE = actor("USANNE01", platform="slack", name="Sanne de Vries")
BART = actor("UBART0001", platform="slack", name="Bart Jansen")
VERA = actor("UVERA0001", platform="slack", name="Vera Bos")
COORD = actor("UCOORD", platform="slack", name="Marieke")
NEEDLES = ("Sanne de Vries", "sanne.devries@baeken.nl", "USANNE01", "@sanne:swv.nl")
VOTE = {"question": "Gaan we door met de groeiklas?", "options": "voor, tegen, onthouding", "electorate": "members",
        "werkgebied": "", "secret": "nee", "visible": "ja", "deadline": "vrijdag 17:00", "quorum": "",
        "threshold": ""}


@pytest.fixture
async def bot(database_url: str, clock: ManualClock) -> AsyncIterator[Bot]:
    """A bot that listens in the outer circle (for the 💡), on SQLite and PostgreSQL."""
    async with started_bot(database_url, clock, channel_outer_circle=OUTER) as instance:
        yield instance


async def start_vote(bot: Bot, **values: str) -> int:
    await bot.dispatcher.dispatch(FormSubmission("stemming.form", {**VOTE, **values}, COORD, channel="C0VOORSTEL"))
    async with bot.db.transaction() as repos:
        return int(await repos.session.scalar(select(Vote.id).order_by(Vote.id.desc()).limit(1)) or 0)


async def ballot(bot: Bot, who: Actor, vote: int, option: int) -> None:
    answer = text_of(await press(bot, "stemming.stem", f"{vote}:{option}", who))
    assert answer.startswith("Je stem"), answer


async def everything(bot: Bot) -> dict[str, Any]:
    """A member who did it all; returns what the test compares afterwards."""
    baeken, vlieger = await add_organisation(bot, "Baeken"), await add_organisation(bot, "Vlieger")
    sanne = await add_member(bot, "Sanne de Vries", user_id="USANNE01", platform="slack", role="ib-er",
                             organisation=baeken, email="sanne.devries@baeken.nl")
    await add_member(bot, "Bart Jansen", user_id="UBART0001", platform="slack", organisation=baeken)
    await add_member(bot, "Vera Bos", user_id="UVERA0001", platform="slack", organisation=vlieger)
    await add_member(bot, "Marieke", user_id="UCOORD", platform="slack")
    async with bot.db.transaction() as repos:
        await repos.members.link(sanne.id, "matrix", "@sanne:swv.nl")
        repos.session.add(MatrixDirectRoom(user_id="@sanne:swv.nl", room_id="!dm-sanne:swv.nl"))
        repos.session.add(MatrixButtons(room_id="!dm-sanne:swv.nl", user_id="@sanne:swv.nl", buttons="[]",
                                        shown_at=bot.clock.now()))
        await repos.meetings.add_agenda_item("consulenten", date(2026, 12, 1), "Casus van Sanne de Vries",
                                             sanne.id, bot.clock.now())
        await repos.meetings.change("consulenten", date(2026, 12, 8), skip_reason="Sanne de Vries is er niet",
                                    moved_to=None, by=sanne.id, now=bot.clock.now())
        await repos.outbox.enqueue(OUTER, reply_to_json(Reply((Item("Sanne de Vries", ("weet van gedrag",),
            mention=Mention("Sanne de Vries", (("slack", "USANNE01"), ("matrix", "@sanne:swv.nl")))),))),
            bot.clock.now(), key="mention-of-sanne")
    await add_expertise(bot, sanne, "gedrag", "Sanne de Vries begeleidt teams bij gedrag")
    pitch = {"title": "Groeiklas Baeken", "schools": "Baeken", "summary": "Een groeiklas.", "benefit": "Minder thuis.",
             "amount": "€ 5.000", "cofunding": "0", "theme": "groeiklas",
             "contact": "Sanne de Vries, sanne.devries@baeken.nl"}
    assert "ingediend" in text_of(await submit(bot, "pitch.form", pitch, SANNE))
    await bot.dispatcher.dispatch(Reaction("💡", BART, OUTER, "1700000000.000100",
                                           message_text="#gedrag Een time-out plek in elke school",
                                           message_author=SANNE, link="https://swv.slack.com/archives/C0BUITEN/p1",
                                           delivery_id="Ev0001"))
    await bot.dispatcher.dispatch(Action("privacy.annuleer", "", SANNE, delivery_id="USANNE01-1700000001"))
    votes: dict[str, int] = {}
    votes["open"] = await start_vote(bot)
    votes["secret"] = await start_vote(bot, secret="ja")
    votes["schools"] = await start_vote(bot, electorate="schools")
    votes["running"] = await start_vote(bot)
    for who, option in ((SANNE, 0), (BART, 1), (VERA, 0)):
        await ballot(bot, who, votes["open"], option)
    for who, option in ((SANNE, 1), (BART, 0)):
        await ballot(bot, who, votes["secret"], option)
    for who, option in ((SANNE, 0), (VERA, 1)):
        await ballot(bot, who, votes["schools"], option)
    for who in (SANNE, BART):
        await ballot(bot, who, votes["running"], 0)
    for kind in ("open", "secret", "schools"):
        assert "gesloten" in text_of(await run(bot, f"/stemming sluiten {votes[kind]}", COORD))
    return {"sanne": sanne, "votes": votes, "results": await results(bot, votes)}


async def results(bot: Bot, votes: dict[str, int]) -> dict[str, Any]:
    """Per closed vote: the stored result, and the lines `/stemming <nr>` shows with counts and turnout."""
    out: dict[str, Any] = {}
    for kind in ("open", "secret", "schools"):
        async with bot.db.transaction() as repos:
            vote = await repos.votes.get(votes[kind])
        assert vote is not None
        shown = text_of(await run(bot, f"/stemming {votes[kind]}", BART)).splitlines()
        out[kind] = (vote.result, [line for line in shown if line.startswith(("• ", "Opkomst"))])
    return out


async def rows_holding(bot: Bot, needles: tuple[str, ...]) -> list[str]:
    """Every (table, column, needle) where a row's value contains a needle, case ignored."""
    found = []
    async with bot.db.transaction() as repos:
        for table in Base.metadata.sorted_tables:
            for row in (await repos.session.execute(select(table))).mappings():
                for column, value in row.items():
                    for needle in needles:
                        if value is not None and needle.casefold() in str(value).casefold():
                            found.append(f"{table.name}.{column}: {needle}")
    return found


async def test_forget_me_leaves_no_trace_and_every_decision_intact(bot: Bot) -> None:
    world = await everything(bot)
    assert len(await rows_holding(bot, NEEDLES)) > 15  # the data is really there before
    question = await run(bot, "/netwerkbot vergeet mij", SANNE)
    assert isinstance(question, Reply)
    [(label, action_id, value)] = [(b.label, b.action_id, b.value) for p in question.parts
                                   if isinstance(p, Actions) for b in p.buttons if b.action_id == "privacy.vergeet"]
    assert label == "Ja, vergeten" and "een voormalig lid" in text_of(question)
    assert "niet voor jou" in text_of(await press(bot, action_id, value, BART))  # only the member themself
    assert await rows_holding(bot, NEEDLES)
    done = text_of(await press(bot, action_id, value, SANNE))
    assert done.startswith("Ik heb je vergeten")

    assert await rows_holding(bot, NEEDLES) == []
    assert await results(bot, world["votes"]) == world["results"]  # counts, turnout, decision: unchanged
    running = text_of(await run(bot, f"/stemming {world['votes']['running']}", BART))
    assert "1 stem" in running  # her ballot in the vote still running went with her
    names = text_of(await run(bot, f"/stemming {world['votes']['open']}", BART))
    assert "een voormalig lid" in names and "Vera Bos" in names
    pitch = text_of(await run(bot, "/pitch 1", BART))
    assert "Baeken" in pitch and "een voormalig lid" in pitch
    assert "Sanne" not in text_of(await run(bot, "/expertise gedrag", BART))
    async with bot.db.transaction() as repos:
        assert "een voormalig lid" not in {m.name for m in await repos.members.all()}  # no longer listed
        assert not list(await repos.session.scalars(select(MatrixDirectRoom)))
        assert [d.delivery_id for d in await repos.session.scalars(select(Delivery))] == ["Ev0001"]
        idea = await repos.ideas.get(1)
    assert idea is not None and idea.author_name == "een voormalig lid" and idea.source is None and idea.link == ""
    assert "Een time-out plek in elke school" in idea.text  # the idea stays the network's


async def test_a_coordinator_forgets_a_member_who_left_others_may_not(bot: Bot) -> None:
    world = await everything(bot)
    assert "Dit kunnen alleen coördinatoren" in text_of(await run(bot, "/netwerkbot verwijder Sanne de Vries", BART))
    question = await run(bot, "/netwerkbot verwijder @Sanne de Vries", COORD)
    assert isinstance(question, Reply) and "Sanne de Vries vergeten?" in text_of(question)
    [value] = [b.value for p in question.parts if isinstance(p, Actions) for b in p.buttons
               if b.action_id == "privacy.vergeet"]
    assert "alleen coördinatoren" in text_of(await press(bot, "privacy.vergeet", value, BART))
    assert "Goed, ik heb niets gewist" in text_of(await press(bot, "privacy.annuleer", value, COORD))
    assert await rows_holding(bot, NEEDLES)
    assert "is vergeten" in text_of(await press(bot, "privacy.vergeet", value, COORD))
    assert await rows_holding(bot, NEEDLES) == []
    assert await results(bot, world["votes"]) == world["results"]
    assert "al vergeten" in text_of(await press(bot, "privacy.vergeet", value, COORD))
    assert "Ik ken geen" in text_of(await run(bot, "/netwerkbot verwijder Sanne de Vries", COORD))


async def test_my_data_is_a_summary_and_a_json_file_with_everything_but_closed_secret_ballots(bot: Bot) -> None:
    world = await everything(bot)
    reply = await run(bot, "/netwerkbot mijn gegevens", SANNE)
    assert isinstance(reply, Reply)
    shown = text_of(reply)
    assert "Jouw gegevens bij netwerkbot" in shown and "sanne.devries@baeken.nl" in shown
    [file] = [p for p in reply.parts if isinstance(p, File)]
    assert file.name.endswith(".json") and file.mime == "application/json"
    data = json.loads(file.data)
    assert data["profiel"]["naam"] == "Sanne de Vries" and data["profiel"]["school_of_organisatie"] == "Baeken"
    assert {(a.get("platform"), a.get("gebruiker")) for a in data["accounts"]} >= {
        ("slack", "USANNE01"), ("matrix", "@sanne:swv.nl")}
    assert [e["onderwerp"] for e in data["expertise"]] == ["gedrag"]
    assert [p["scholen"] for p in data["pitches"]] == [["Baeken"]]
    assert [i["jouw_rol"] for i in data["ideeen"]] == [["auteur"]]
    assert [a["tekst"] for a in data["agendapunten"]] == ["Casus van Sanne de Vries"]
    votes = world["votes"]
    # open, per school and the running one; the closed secret one is not shown, not even to her
    assert sorted(b["stemming"] for b in data["stemmen"]) == sorted(
        [votes["open"], votes["schools"], votes["running"]])
    assert {h["wat"] for h in data["geschiedenis"]} >= {"pitch ingediend", "overleg overgeslagen"}
    other = await run(bot, "/netwerkbot mijn gegevens", BART)
    assert isinstance(other, Reply)
    [bart_file] = [p for p in other.parts if isinstance(p, File)]
    assert b"Sanne" not in bart_file.data and b"USANNE01" not in bart_file.data
