"""Pitch and vote over Teams: the pitch form as a card, its errors in the card, the announcement posted by the
outbox proactively in the proposals channel (where the bot was installed), a vote with a button per option,
each press answered to the voter alone, the tally card updated in place, the result at the deadline; Teams'
throttling (429 + Retry-After) and 5xx are "later" for the outbox, which keeps the order."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.core.clock import ManualClock
from bot.core.inputs import Actor, FormSubmission
from tests.adapters.test_teams_e2e import World, running
from tests.conftest import AMS
from tests.fake_teams import Person, Sent, buttons, card_texts
from tests.support import add_member, add_organisation

PROPOSALS = "19:voorstellen@thread.tacv2"
INGRID, BART = Person("29:ingrid", "aad-ingrid", "Ingrid"), Person("29:bart", "aad-bart", "Bart")
THOMAS, COORDINATOR = Person("29:thomas", "aad-thomas", "Thomas"), Person("29:marieke", "aad-marieke", "Marieke")
PITCH = {"title": "Samen een groeiklas", "schools": "Baeken, Vlieger", "summary": "Een groeiklas.",
         "benefit": "Voor de wijk.", "amount": "€ 12.500", "theme": "groeiklas", "contact": "Ingrid"}


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(sqlite_url, clock, teams_channel_proposals=PROPOSALS,
                       coordinators=frozenset({f"teams:{COORDINATOR.aad}"})) as w:
        w.bot.connect(w.adapter, "teams")  # the timekeeper is not started: the test says when time passes
        baeken, vlieger = await add_organisation(w.bot, "Baeken"), await add_organisation(w.bot, "Vlieger")
        for user, school in ((INGRID, baeken), (BART, baeken), (THOMAS, vlieger)):
            await add_member(w.bot, user.name, user_id=user.aad, platform="teams", organisation=school)
        assert (await w.teams.installed(COORDINATOR, PROPOSALS)).status == 202  # the app added to the channel
        try:
            yield w
        finally:
            await w.bot.refresher.stop()


def button(content: dict[str, Any], label: str) -> dict[str, Any]:
    found = [b for b in buttons(content) if b["title"] == label]
    assert found, f"no button {label!r} in {[b['title'] for b in buttons(content)]}"
    return found[0]


async def posted(w: World, count: int) -> list[Sent]:
    """Flush the outbox as the timekeeper would; what it posted in the proposals channel so far."""
    await w.bot.outbox.flush()
    await w.fake.wait_for(lambda sent: len([s for s in sent if s.conversation == PROPOSALS
                                            and s.kind == "send"]) >= count)
    return w.fake.to(PROPOSALS, "send")


async def form(w: World, who: Person) -> dict[str, Any]:
    """The form card the last message to `who` carried (their personal chat)."""
    return w.fake.to(f"a:personal-{who.aad}")[-1].card()


async def test_pitch_vote_presses_tally_and_result(world: World, clock: ManualClock) -> None:
    await world.teams.message(INGRID, "/pitch")
    pitch_form = await form(world, INGRID)
    status, refused = await world.teams.press(INGRID, button(pitch_form, "Indienen"), PITCH | {"amount": "1.50"})
    assert status == 200 and refused["type"] == "application/vnd.microsoft.card.adaptive"
    errors = [e["errorMessage"] for e in refused["value"]["body"] if e.get("errorMessage")]
    assert any('"1.50" is geen bedrag' in e for e in errors)
    assert [e.get("value") for e in refused["value"]["body"] if e.get("id") == "title"] == [PITCH["title"]]
    status, done = await world.teams.press(INGRID, button(refused["value"], "Indienen"), PITCH)
    assert status == 200 and "Je pitch is ingediend als #1" in card_texts(done["value"])  # in the form's place
    [announcement] = await posted(world, 1)
    assert "Pitch #1: Samen een groeiklas" in card_texts(announcement.card())

    status, answer = await world.teams.press(COORDINATOR, button(announcement.card(), "Stemming starten"),
                                             conversation=PROPOSALS, kind="channel")
    assert status == 200
    [vote_form] = [s for s in world.fake.to(PROPOSALS) if s.targeted]  # only the coordinator sees the form
    assert vote_form.activity["recipient"]["id"] == COORDINATOR.bf_id
    values = {"question": "Financieren we de groeiklas?", "options": "voor, tegen, onthouding",
              "electorate": "schools", "secret": "nee", "visible": "ja", "deadline": "vrijdag 17:00"}
    status, _ = await world.teams.press(COORDINATOR, button(vote_form.card(), "Starten"), values,
                                        conversation=PROPOSALS, kind="channel")
    assert status == 200
    vote = (await posted(world, 2))[-1]
    assert "Stemming #1: Financieren we de groeiklas?" in card_texts(vote.card())

    answers = []
    for user, label in ((INGRID, "voor"), (THOMAS, "tegen"), (BART, "tegen"), (THOMAS, "voor")):
        status, answer = await world.teams.press(user, button(vote.card(), label), conversation=PROPOSALS,
                                                 kind="channel")
        assert status == 200
        answers.append(answer)
    assert {a["value"] for a in answers} >= {
        "Je stem (voor Baeken): tegen. Wijzigen kan tot vrijdag 27 november 17:00.",
        "Je stem (voor Vlieger): voor. Wijzigen kan tot vrijdag 27 november 17:00."}
    assert all(a["type"] == "application/vnd.microsoft.activity.message" for a in answers)  # the voter's alone
    assert len(world.fake.to(PROPOSALS, "send")) == 2, "no vote answered in the channel"
    tally = await world.fake.wait_for(lambda sent: any(
        s.kind == "update" and "voor: 1 · tegen: 1" in card_texts(s.activity["attachments"][0]["content"])
        for s in sent))
    assert [s.activity_id for s in tally if s.kind == "update"][-1] == vote.activity_id  # in place

    clock.set(datetime(2026, 11, 27, 17, 0, tzinfo=AMS))
    await world.bot.scheduler.run_due()
    result = (await posted(world, 3))[-1]
    assert "Uitslag stemming #1" in card_texts(result.card())
    closed = await world.fake.wait_for(lambda sent: any(
        s.kind == "update" and "Gesloten. Uitslag:" in card_texts(s.activity["attachments"][0]["content"])
        for s in sent))
    assert not buttons([s for s in closed if s.kind == "update"][-1].activity["attachments"][0]["content"])


async def test_a_burst_of_presses_becomes_at_most_one_update_a_second(world: World) -> None:
    await world.bot.dispatcher.dispatch(FormSubmission(
        "stemming.form", {"question": "Zelfde tijd volgend jaar?", "options": "ja, nee", "electorate": "members",
                          "secret": "ja", "visible": "ja", "deadline": "over 3 dagen"},
        Actor("teams", COORDINATOR.aad, COORDINATOR.name), channel=PROPOSALS))
    vote = (await posted(world, 1))[-1]
    voters = [Person(f"29:lid{n}", f"aad-lid{n}", f"Lid {n}") for n in range(12)]
    started = time.monotonic()
    for n, user in enumerate(voters):
        await world.teams.press(user, button(vote.card(), "ja" if n % 3 else "nee"), conversation=PROPOSALS,
                                kind="channel")
    final = await world.fake.wait_for(lambda sent: any(
        s.kind == "update" and "12 stemmen uitgebracht — ja: 8 · nee: 4" in
        card_texts(s.activity["attachments"][0]["content"]) for s in sent))
    elapsed = time.monotonic() - started
    updates = [s for s in final if s.kind == "update"]
    assert len(updates) <= elapsed + 1, (len(updates), elapsed)


async def test_throttled_and_failing_posts_wait_and_keep_their_order(world: World, clock: ManualClock) -> None:
    """429 with Retry-After and a 503: nothing lost, nothing doubled, the order kept."""
    for n in (1, 2, 3):
        await world.bot.dispatcher.dispatch(FormSubmission(
            "stemming.form", {"question": f"Vraag {n}?", "options": "ja, nee", "electorate": "members",
                              "secret": "nee", "visible": "ja", "deadline": "over 3 dagen"},
            Actor("teams", COORDINATOR.aad, COORDINATOR.name), channel=PROPOSALS))
    world.fake.fail_next(429, retry_after=30)
    assert await world.bot.outbox.flush() == 0
    clock.advance(timedelta(seconds=20))
    assert await world.bot.outbox.flush() == 0, "Teams said: in 30 seconds"
    world.fake.fail_next(503)
    clock.advance(timedelta(seconds=11))
    assert await world.bot.outbox.flush() == 0
    clock.advance(timedelta(minutes=10))
    sent = await posted(world, 3)
    assert [card_texts(s.card()).split("\n")[0] for s in sent] == [
        "Stemming #1: Vraag 1?", "Stemming #2: Vraag 2?", "Stemming #3: Vraag 3?"]
