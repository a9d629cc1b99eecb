"""Meetings and the budget round over Teams: a reminder posted proactively in the consultants' channel through
429 and 500, `overleg instellen` as a card form with its errors in the card, and the budget round's ballot as
checkboxes (a multi-select choice set) for each school."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.core.clock import ManualClock
from tests.adapters.test_teams_e2e import World, running
from tests.adapters.test_teams_proposals import BART, COORDINATOR, INGRID, PROPOSALS, THOMAS, button, posted
from tests.adapters.test_teams_proposals import world as world
from tests.conftest import AMS
from tests.fake_teams import Person, buttons, card_texts

CONSULTANTS = "19:consulenten@thread.tacv2"
PITCH = {"summary": "Samen.", "benefit": "Voor de wijk.", "theme": "groeiklas", "contact": "Ingrid",
         "schools": "Baeken"}


@pytest.fixture
async def consultants(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(sqlite_url, clock, teams_channel_consultants=CONSULTANTS,
                       coordinators=frozenset({f"teams:{COORDINATOR.aad}"})) as w:
        w.bot.connect(w.adapter, "teams")
        assert (await w.teams.installed(COORDINATOR, CONSULTANTS)).status == 202
        try:
            yield w
        finally:
            await w.bot.refresher.stop()


async def test_a_reminder_reaches_the_channel_once_through_429_and_500(consultants: World,
                                                                       clock: ManualClock) -> None:
    w = consultants
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=AMS))
    await w.bot.scheduler.plan()
    clock.set(datetime(2026, 11, 30, 16, 0, tzinfo=AMS))
    w.fake.fail_next(429, retry_after=1)
    w.fake.fail_next(500)
    await w.bot.scheduler.run_due()
    assert await w.bot.outbox.flush() == 0  # 429: Teams said to wait a second
    clock.advance(timedelta(seconds=1))
    assert await w.bot.outbox.flush() == 0  # 500: backoff
    clock.advance(timedelta(seconds=5))
    assert await w.bot.outbox.flush() == 1
    [sent] = w.fake.to(CONSULTANTS)
    assert "Morgen: dinsdag 1 december, 09:00–11:30." in card_texts(sent.card())
    assert await w.bot.scheduler.run_due() == 0 and await w.bot.outbox.flush() == 0


async def test_overleg_instellen_is_a_card_form_with_its_errors_in_it(consultants: World) -> None:
    w = consultants
    await w.teams.message(COORDINATOR, "overleg instellen", conversation=CONSULTANTS, kind="channel", mention=True)
    [form] = [s for s in w.fake.to(CONSULTANTS) if s.targeted]
    content = form.card()
    weekday = next(e for e in content["body"] if e.get("id") == "weekday")
    assert weekday["type"] == "Input.ChoiceSet" and weekday["value"] == "dinsdag"
    submit = button(content, "Opslaan")
    values = {e["id"]: str(e.get("value", "")) for e in content["body"] if e.get("id")}
    status, refused = await w.teams.press(COORDINATOR, submit, values | {"time": "25:00"}, conversation=CONSULTANTS,
                                          kind="channel")
    assert status == 200 and any(e.get("errorMessage") for e in refused["value"]["body"])
    status, saved = await w.teams.press(COORDINATOR, submit, values | {"time": "13:00-15:00"},
                                        conversation=CONSULTANTS, kind="channel")
    assert status == 200 and "13:00" in card_texts(saved["value"])


async def test_a_budget_round_over_teams(world: World, clock: ManualClock) -> None:
    for title, amount in (("Groeiklas", "€ 30.000"), ("Gedrag", "€ 20.000"), ("Thuiszitters", "€ 25.000")):
        await world.teams.message(INGRID, "pitch")
        form = world.fake.to(f"a:personal-{INGRID.aad}")[-1].card()
        status, _ = await world.teams.press(INGRID, button(form, "Indienen"), PITCH | {"title": title,
                                                                                       "amount": amount})
        assert status == 200
    await posted(world, 3)
    await world.teams.message(COORDINATOR, "stemming begroting", conversation=PROPOSALS, kind="channel",
                              mention=True)
    [round_form] = [s for s in world.fake.to(PROPOSALS) if s.targeted]
    status, _ = await world.teams.press(COORDINATOR, button(round_form.card(), "Openen"),
                                        {"budget": "€ 50.000", "pitches": "1,2,3", "electorate": "schools",
                                         "secret": "ja", "deadline": "vrijdag 17:00"},
                                        conversation=PROPOSALS, kind="channel")
    assert status == 200
    message = (await posted(world, 4))[-1]
    assert "Begrotingsronde #1: budget" in card_texts(message.card())

    for user, ticked in ((INGRID, "1"), (THOMAS, "2,3")):
        await ballot_of(world, user, message.card(), ticked)
    # Bart's ballot for Baeken opens with Ingrid's ticks: one ballot per school
    element = await ballot_of(world, BART, message.card(), None)
    assert element["value"] == "1"

    clock.set(datetime(2026, 11, 27, 17, 0, tzinfo=AMS))
    await world.bot.scheduler.run_due()
    result = card_texts((await posted(world, 5))[-1].card()).replace("\xa0", " ")
    assert "Uitslag begrotingsronde #1" in result
    assert "Toegekend: € 50.000,00 van € 50.000,00; over: € 0,00." in result


async def ballot_of(w: World, user: Person, message: dict[str, Any], ticked: str | None) -> dict[str, Any]:
    """Press Stemmen; the ballot form (for the voter alone) and, with `ticked`, submit it."""
    before = len([s for s in w.fake.to(PROPOSALS) if s.targeted])
    status, _ = await w.teams.press(user, button(message, "Stemmen"), conversation=PROPOSALS, kind="channel")
    assert status == 200
    forms = [s for s in w.fake.to(PROPOSALS) if s.targeted]
    assert len(forms) == before + 1 and forms[-1].activity["recipient"]["id"] == user.bf_id
    content = forms[-1].card()
    [element] = [e for e in content["body"] if e.get("type") == "Input.ChoiceSet"]
    assert element["isMultiSelect"] and [c["value"] for c in element["choices"]] == ["1", "2", "3"]
    if ticked is not None:
        status, _ = await w.teams.press(user, buttons(content)[0], {"pitches": ticked}, conversation=PROPOSALS,
                                        kind="channel")
        assert status == 200
    found: dict[str, Any] = element
    return found
