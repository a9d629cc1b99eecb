"""Issue 13 over signed Slack HTTP, on SQLite and PostgreSQL: a pitch vote with its own options decides
the pitch as posted, "Stemming starten" is refused on closed pitches, the pitch message follows the
pitch, and the pitch hints speak Dutch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.core.clock import ManualClock
from tests.adapters.test_slack_e2e import World, running, texts
from tests.adapters.test_slack_proposals import BART, COORDINATOR, INGRID, PROPOSALS, THOMAS, button, modal, posted
from tests.support import add_member, add_organisation

PITCH = {"title": "Samen een groeiklas", "schools": "Baeken, Vlieger", "summary": "Een groeiklas.",
         "benefit": "Voor de wijk.", "amount": "€ 12.500", "theme": "groeiklas", "contact": "Ingrid"}


@pytest.fixture
async def world(database_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(database_url, clock, channel_proposals=PROPOSALS) as w:
        w.bot.connect(w.adapter)  # the timekeeper is not started: the test says when time passes
        baeken, vlieger = await add_organisation(w.bot, "Baeken"), await add_organisation(w.bot, "Vlieger")
        for user, school in ((INGRID, baeken), (BART, baeken), (THOMAS, vlieger)):
            await add_member(w.bot, user.name.title(), user_id=user.id, platform="slack", organisation=school)
        try:
            yield w
        finally:
            await w.bot.refresher.stop()


async def pitched(w: World) -> dict[str, Any]:
    """Ingrid's pitch #1 submitted through the modal; its message in the channel."""
    view = await modal(w, "/pitch", INGRID)
    assert (await w.slack.submit(view, PITCH, INGRID)).status == 200
    return (await posted(w, 1))[-1]


async def vote_form(w: World, announcement: dict[str, Any], count: int) -> dict[str, Any]:
    """A coordinator presses "Stemming starten" under the pitch: the modal (the `count`-th views.open)."""
    await w.slack.press(button(announcement["blocks"], "Stemming starten"), COORDINATOR,
                        response_url=w.fake.response_url("start"), channel=PROPOSALS)
    view: dict[str, Any] = (await w.fake.wait_for_calls("views.open", count))[-1].params["view"]
    return view


def updated_with(w: World, text: str) -> Any:
    return w.fake.wait_for(lambda: [c for c in w.fake.ok_calls("chat.update") if text in texts(c.params["blocks"])])


async def test_a_vote_with_ja_nee_accepts_the_pitch_when_ja_wins_and_the_message_follows(world: World) -> None:
    announcement = await pitched(world)
    assert "*Status*\ningediend" in texts(announcement["blocks"])
    await world.slack.press(button(announcement["blocks"], "Agenderen"), COORDINATOR,
                            response_url=world.fake.response_url("agenderen"), channel=PROPOSALS)
    scheduled = (await updated_with(world, "*Status*\ngeagendeerd"))[-1]
    message = world.fake.message(PROPOSALS, scheduled.params["ts"])  # the pitch's own message is replaced
    assert message is not None and "Pitch #1: Samen een groeiklas" in message.text
    assert [e["text"]["text"] for b in scheduled.params["blocks"] if b["type"] == "actions"
            for e in b["elements"]] == ["Stemming starten", "Begrotingsronde"]  # "Agenderen" is done

    view = await vote_form(world, announcement, 2)
    accepting = next(b for b in view["blocks"] if b.get("block_id") == "accepting")
    assert accepting["label"]["text"] == "Keuze die de pitch aanneemt"
    refused = await world.slack.submit(view, {"question": "Financieren we de groeiklas?", "options": "Ja, Nee",
                                              "electorate": "schools", "secret": "nee", "visible": "ja",
                                              "deadline": "vrijdag 17:00", "accepting": "voor"}, COORDINATOR)
    assert refused.json["response_action"] == "errors"
    assert refused.json["errors"]["accepting"] == "\"voor\" is geen van de keuzes. Kies een van: Ja, Nee."
    values = {"question": "Financieren we de groeiklas?", "options": "Ja, Nee", "electorate": "schools",
              "secret": "nee", "visible": "ja", "deadline": "vrijdag 17:00"}  # accepting left empty: the first
    assert (await world.slack.submit(view, values, COORDINATOR)).status == 200
    vote = (await posted(world, 2))[-1]
    in_vote = (await updated_with(world, "*Status*\nin stemming"))[-1]
    assert not [b for b in in_vote.params["blocks"] if b["type"] == "actions"]  # no buttons while it is voted on

    for n, user in enumerate((INGRID, THOMAS)):
        await world.slack.press(button(vote["blocks"], "Ja"), user, response_url=world.fake.response_url(user.id),
                                channel=PROPOSALS)
        await world.fake.wait_for_responses(n + 2)
    closed = await world.slack.command("/stemming", "sluiten 1", COORDINATOR, channel=PROPOSALS)
    assert "Stemming #1 is gesloten" in closed.json["text"]
    assert "Ja neemt pitch #1 aan" in texts(vote["blocks"])
    result = (await posted(world, 3))[-1]
    assert "Besluit: Ja." in texts(result["blocks"]) and "Pitch #1 is nu aangenomen." in texts(result["blocks"])
    shown = await world.slack.command("/pitch", "1", INGRID, channel=PROPOSALS)
    assert "*Status*\naangenomen" in texts(shown.json["blocks"]) and "afgewezen" not in texts(shown.json["blocks"])
    decided = (await updated_with(world, "*Status*\naangenomen"))[-1]
    assert not [b for b in decided.params["blocks"] if b["type"] == "actions"]


async def test_nee_winning_rejects_and_no_decision_puts_the_pitch_back_on_the_agenda(world: World) -> None:
    announcement = await pitched(world)
    values = {"question": "Doen we het?", "options": "Ja, Nee", "electorate": "members", "secret": "nee",
              "visible": "ja", "deadline": "over 3 dagen", "accepting": "ja"}
    assert (await world.slack.submit(await vote_form(world, announcement, 2), values, COORDINATOR)).status == 200
    confirmed = (await world.fake.wait_for_calls("chat.postEphemeral", 2))[-1]
    assert confirmed.params["text"] == ("Stemming #1 staat in het kanaal en sluit vrijdag 27 november 17:00. "
                                        "Je noemde geen tijd, dus hij sluit om 17:00.")
    await world.slack.command("/stemming", "sluiten 1", COORDINATOR, channel=PROPOSALS)  # nobody voted
    shown = texts((await world.slack.command("/pitch", "1", INGRID, channel=PROPOSALS)).json["blocks"])
    assert "*Status*\ngeagendeerd" in shown

    second = await vote_form(world, announcement, 3)  # back on the agenda: a new vote may start
    assert (await world.slack.submit(second, values, COORDINATOR)).status == 200
    vote = (await posted(world, 4))[-1]
    await world.slack.press(button(vote["blocks"], "Nee"), BART, response_url=world.fake.response_url("b"),
                            channel=PROPOSALS)
    await world.fake.wait_for_responses(1)
    await world.slack.command("/stemming", "sluiten 2", COORDINATOR, channel=PROPOSALS)
    shown = texts((await world.slack.command("/pitch", "1", INGRID, channel=PROPOSALS)).json["blocks"])
    assert "*Status*\nafgewezen" in shown


async def test_stemming_starten_is_refused_on_a_withdrawn_or_decided_pitch(world: World) -> None:
    announcement = await pitched(world)
    view = await vote_form(world, announcement, 2)  # opened while the pitch was still open
    withdrawn = await world.slack.command("/pitch", "intrekken 1", INGRID, channel=PROPOSALS)
    assert "Pitch #1 is ingetrokken." in withdrawn.json["text"]
    await updated_with(world, "*Status*\ningetrokken")

    await world.slack.press(button(announcement["blocks"], "Stemming starten"), COORDINATOR,
                            response_url=world.fake.response_url("again"), channel=PROPOSALS)
    [refusal] = await world.fake.wait_for_responses(1)
    assert refusal.body["text"] == ("Pitch 1 is ingetrokken; alleen over een ingediende of geagendeerde pitch kan "
                                    "een stemming starten.")
    assert len(world.fake.ok_calls("views.open")) == 2  # no form this time

    values = {"question": "Financieren we pitch #1?", "options": "voor, tegen", "electorate": "schools",
              "secret": "nee", "visible": "ja", "deadline": "vrijdag 17:00"}
    assert (await world.slack.submit(view, values, COORDINATOR)).status == 200
    told = await world.fake.wait_for(lambda: [c for c in world.fake.ok_calls("chat.postEphemeral")
                                              if c.params["user"] == COORDINATOR.id])
    assert told[-1].params["text"].startswith("Pitch 1 is ingetrokken; alleen over een ingediende")
    await world.adapter.drain()
    await world.bot.outbox.flush()
    assert all("Stemming #" not in texts(c.params["blocks"]) for c in world.fake.ok_calls("chat.postMessage"))
    listing = await world.slack.command("/stemming", "lijst", COORDINATOR, channel=PROPOSALS)
    assert "Er zijn nog geen stemmingen geweest." in listing.json["text"]


async def test_the_pitch_list_and_help_speak_dutch(world: World) -> None:
    await pitched(world)
    none = await world.slack.command("/pitch", "lijst aangenomen", INGRID, channel=PROPOSALS)
    assert none.json["text"] == "Er zijn geen pitches met de status aangenomen. /pitch lijst toont ze allemaal."
    in_vote = await world.slack.command("/pitch", "lijst in stemming", INGRID, channel=PROPOSALS)
    assert in_vote.json["text"].startswith("Er zijn geen pitches met de status in stemming.")
    wrong = await world.slack.command("/pitch", "lijst besproken", INGRID, channel=PROPOSALS)
    assert "in stemming" in wrong.json["text"] and "in_stemming" not in wrong.json["text"]
    helped = await world.slack.command("/pitch", "help", INGRID, channel=PROPOSALS)
    assert "in stemming" in helped.json["text"] and "_" not in helped.json["text"].split("status")[-1]


async def test_an_unknown_school_in_the_pitch_form_is_named_with_the_nearest_known_one(world: World) -> None:
    view = await modal(world, "/pitch", INGRID)
    refused = await world.slack.submit(view, PITCH | {"schools": "Baeken, De Vliegr, Zonnebloem"}, INGRID)
    assert refused.json["response_action"] == "errors"
    assert refused.json["errors"]["schools"] == ("Ik ken geen school met de naam \"De Vliegr\". Bedoel je Vlieger? "
                                                 "Ik ken geen school met de naam \"Zonnebloem\".")
