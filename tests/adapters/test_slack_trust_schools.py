"""Who acts for a school is decided by coordinators, over signed Slack HTTP against the fake Web API.

The attack an outside test found: a member declared himself of Baeken, pressed, declared himself of
another school, pressed again, and both schools' ballots were his; the same way he edited another
school's pitch. Now a member's school change is a request the coordinators confirm or refuse, and
until then it gives no school rights.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.adapters.slack import PLATFORM
from bot.core.clock import ManualClock
from tests.adapters.test_slack_e2e import World, running, texts
from tests.adapters.test_slack_proposals import COORDINATOR, INGRID, PROPOSALS, THOMAS, button, modal
from tests.fake_slack import Answer, User
from tests.support import add_member, add_organisation

MALLORY = User("U0MALLORY", "mallory")
VOTE = {"question": "Financieren we de groeiklas?", "options": "voor, tegen", "electorate": "schools",
        "secret": "nee", "visible": "ja", "deadline": "vrijdag 17:00"}
PITCH = {"title": "Groeiklas Vlieger", "schools": "Vlieger", "summary": "Een groeiklas.", "benefit": "De wijk.",
         "amount": "€ 12.500", "theme": "groeiklas", "contact": "Thomas"}


@pytest.fixture
async def world(database_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(database_url, clock, channel_proposals=PROPOSALS) as w:
        w.bot.connect(w.adapter, PLATFORM)  # the timekeeper is not started: the test flushes the outbox
        baeken, vlieger = await add_organisation(w.bot, "Baeken"), await add_organisation(w.bot, "Vlieger")
        lierenland = await add_organisation(w.bot, "Lierenland")
        for user, school in ((INGRID, baeken), (THOMAS, vlieger), (MALLORY, lierenland)):  # as the import does
            await add_member(w.bot, user.name.title(), user_id=user.id, platform="slack", organisation=school)
        await add_member(w.bot, "Marieke", user_id=COORDINATOR.id, platform="slack")
        try:
            yield w
        finally:
            await w.bot.refresher.stop()


def said(answer: Answer) -> str:
    """What the user reads of an answer in the ack."""
    body: dict[str, Any] = answer.json or {}
    return str(body.get("text", "")) + "\n" + texts(body.get("blocks", []))


async def press(w: World, element: dict[str, Any], user: User, name: str, channel: str = PROPOSALS) -> str:
    """Press a button; the text of the answer the bot posts to the press's response_url."""
    before = len(w.fake.responses)
    answer = await w.slack.press(element, user, response_url=w.fake.response_url(name), channel=channel)
    assert answer.status == 200
    posted = await w.fake.wait_for_responses(before + 1)
    return str(next(p for p in posted if p.name == name).body["text"])


async def flushed(w: World, count: int) -> list[dict[str, Any]]:
    await w.bot.outbox.flush()
    return [c.params for c in await w.fake.wait_for_calls("chat.postMessage", count)]


async def test_a_member_who_switches_school_between_presses_casts_only_his_confirmed_schools_ballot(
        world: World) -> None:
    view = await modal(world, "/stemming", COORDINATOR)
    assert (await world.slack.submit(view, VOTE, COORDINATOR)).status == 200
    [vote] = await flushed(world, 1)

    asked = said(await world.slack.command("/netwerkbot", "profiel school Baeken", MALLORY))
    assert "Je aanvraag voor Baeken ligt bij de coördinatoren." in asked and "blijf je van Lierenland" in asked
    [_, request] = await flushed(world, 2)  # the coordinator hears it in a direct message, with buttons
    assert request["channel"] == COORDINATOR.id
    assert "Aanvraag 1: Mallory wil van Baeken zijn (nu: Lierenland)" in texts(request["blocks"])
    assert await press(world, button(vote["blocks"], "tegen"), MALLORY, "m1") == \
        "Je stem (voor Lierenland): tegen. Wijzigen kan tot vrijdag 27 november 17:00."

    said(await world.slack.command("/netwerkbot", "profiel school Vlieger", MALLORY))
    assert await press(world, button(vote["blocks"], "voor"), MALLORY, "m2") == \
        "Je stem (voor Lierenland): voor. Wijzigen kan tot vrijdag 27 november 17:00."
    await press(world, button(vote["blocks"], "tegen"), INGRID, "i1")

    # Baeken's ballot is Ingrid's, Vlieger has none: the one Mallory cast is Lierenland's alone
    coordinator_view = said(await world.slack.command("/stemming", "1", COORDINATOR))
    assert "Baeken (Ingrid): tegen" in coordinator_view and "Lierenland (Mallory): voor" in coordinator_view
    assert "Vlieger" not in coordinator_view
    ingrid_view = said(await world.slack.command("/stemming", "1", INGRID))  # her own school's, no other
    assert "Baeken (Ingrid): tegen" in ingrid_view and "Lierenland" not in ingrid_view

    # the coordinator decides: the first request was replaced by the second, which is refused
    [_, _, second] = await flushed(world, 3)
    assert "Aanvraag 2: Mallory wil van Vlieger zijn" in texts(second["blocks"])
    assert await press(world, button(request["blocks"], "Bevestigen"), COORDINATOR, "c1", channel="D0COORD") == \
        "Aanvraag 1 is al vervangen door een nieuwere aanvraag."
    assert await press(world, button(second["blocks"], "Weigeren"), COORDINATOR, "c2", channel="D0COORD") == \
        "Aanvraag 2 geweigerd: Mallory wordt niet van Vlieger."
    told = (await flushed(world, 4))[-1]
    assert told["channel"] == MALLORY.id and "geweigerd" in told["text"]

    closed = said(await world.slack.command("/stemming", "sluiten 1", COORDINATOR))
    assert "Stemming #1 is gesloten; de uitslag staat in het kanaal." in closed
    result = (await flushed(world, 5))[-1]
    shown = texts(result["blocks"])
    assert "voor: Lierenland (Mallory)" in shown and "tegen: Baeken (Ingrid)" in shown  # open vote: per school


async def test_a_member_cannot_edit_another_schools_pitch_by_asking_for_that_school(world: World) -> None:
    view = await modal(world, "/pitch", THOMAS)
    assert (await world.slack.submit(view, PITCH, THOMAS)).status == 200

    said(await world.slack.command("/netwerkbot", "profiel school Vlieger", MALLORY))
    before = len(world.fake.ok_calls("views.open"))
    refused = said(await world.slack.command("/pitch", "wijzigen 1", MALLORY))
    assert "Pitch 1 is niet van jou of je school" in refused
    assert len(world.fake.ok_calls("views.open")) == before  # no form to edit it

    confirmed = said(await world.slack.command("/netwerkbot", "bevestigen 1", COORDINATOR))
    assert "Aanvraag 1 bevestigd: Mallory is nu van Vlieger." in confirmed
    answer = await world.slack.command("/pitch", "wijzigen 1", MALLORY)  # now his school's: the form opens
    assert (answer.status, answer.text) == (200, "")
    assert (await world.fake.wait_for_calls("views.open", before + 1))[-1].params["view"]["callback_id"] == \
        "pitch.form"
