"""Slack's shortcuts over signed HTTP against the fake Web API: "Maak er een idee van" and "Wie weet dit?" on
a message, "Pitch indienen" and "Expertise zoeken" from the shortcuts menu; malformed payloads answered in
Dutch, changing nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.core.clock import ManualClock
from tests.adapters.test_slack_e2e import World, running, texts
from tests.fake_slack import User
from tests.support import add_expertise, add_member, add_organisation, run, text_of

OUTER, ELSEWHERE = "C0BUITEN", "C0ANDERS"
ANNA, PIET, MARIEKE = User("U0ANNA", "anna"), User("U0PIET", "piet"), User("UCOORD", "marieke")
IDEA_TS, QUESTION_TS = "1790000000.000100", "1790000000.000200"
IDEA = "Wat als de #thuiszitters van onze wijk een vaste contactpersoon krijgen?"


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(sqlite_url, clock, channel_outer_circle=OUTER) as w:
        w.bot.connect(w.adapter)  # the outbox's way out; the timekeeper is not started
        school = await add_organisation(w.bot, "Baeken")
        for user in (ANNA, PIET, MARIEKE):
            w.fake.add_user(user.id, user.name.title())
            await add_member(w.bot, user.name.title(), user_id=user.id, platform="slack", organisation=school)
        try:
            yield w
        finally:
            await w.bot.refresher.stop()


async def ideas(w: World) -> list[str]:
    async with w.bot.db.transaction() as repos:
        return [idea.text for idea in await repos.ideas.listing()]


async def told(w: World, count: int) -> dict[str, Any]:
    """The count-th answer through a response_url (a shortcut's private answer)."""
    return (await w.fake.wait_for_responses(count))[count - 1].body


async def test_maak_er_een_idee_van_in_the_outer_circle_is_the_same_as_a_bulb(world: World) -> None:
    world.fake.add_message(OUTER, IDEA_TS, ANNA.id, IDEA)
    answer = await world.slack.message_shortcut("idee_maken", PIET, OUTER, IDEA_TS)
    assert answer.status == 200 and answer.text == ""
    await world.adapter.drain()
    await world.bot.outbox.flush()
    [confirmed] = await world.fake.wait_for_calls("chat.postMessage")
    assert (confirmed.params["channel"], confirmed.params["thread_ts"]) == (OUTER, IDEA_TS)
    assert "Genoteerd als idee 1 (#thuiszitters) van Anna" in texts(confirmed.params["blocks"])
    assert world.fake.permalink(OUTER, IDEA_TS) in text_of(await run(world.bot, "/idee 1"))
    await world.slack.reaction_added("bulb", MARIEKE.id, OUTER, IDEA_TS, "Ev01")  # a 💡 after it: still one
    await world.slack.message_shortcut("idee_maken", MARIEKE, OUTER, IDEA_TS)
    await world.adapter.drain()
    assert "is al idee 1" in (await told(world, 1))["text"]
    assert len(await ideas(world)) == 1


async def test_elsewhere_only_coordinators_make_an_idea_of_a_message(world: World) -> None:
    world.fake.add_message(ELSEWHERE, IDEA_TS, ANNA.id, IDEA)
    await world.slack.message_shortcut("idee_maken", PIET, ELSEWHERE, IDEA_TS)
    await world.adapter.drain()
    refused = await told(world, 1)
    assert refused["response_type"] == "ephemeral" and "kanaal van de buitenkring" in refused["text"]
    assert await ideas(world) == []
    await world.slack.message_shortcut("idee_maken", MARIEKE, ELSEWHERE, IDEA_TS)
    await world.adapter.drain()
    assert len(await ideas(world)) == 1


async def test_wie_weet_dit_answers_privately_with_who_knows(world: World) -> None:
    async with world.bot.db.transaction() as repos:
        piet = await repos.members.by_identity("slack", PIET.id)
    assert piet is not None
    await add_expertise(world.bot, piet, "dyslexie")
    world.fake.add_message(ELSEWHERE, QUESTION_TS, ANNA.id, "Onze leerling met dyslexie loopt vast bij lezen.")
    world.fake.add_message(ELSEWHERE, IDEA_TS, ANNA.id, "Fijn weekend allemaal")
    await world.slack.message_shortcut("wie_weet", ANNA, ELSEWHERE, QUESTION_TS)
    await world.adapter.drain()
    answer = await told(world, 1)
    assert answer["response_type"] == "ephemeral"
    assert "dyslexie" in texts(answer["blocks"]) and f"<@{PIET.id}>" in texts(answer["blocks"])
    await world.slack.message_shortcut("wie_weet", ANNA, ELSEWHERE, IDEA_TS)
    await world.adapter.drain()
    assert "Ik weet niemand die hier iets van weet" in (await told(world, 2))["text"]
    assert not world.fake.ok_calls("chat.postMessage")  # nothing in the channel


async def test_pitch_indienen_opens_the_pitch_form(world: World) -> None:
    assert (await world.slack.shortcut("pitch_indienen", ANNA)).status == 200
    await world.adapter.drain()
    [opened] = await world.fake.wait_for_calls("views.open")
    assert opened.params["view"]["callback_id"] == "pitch.form"


async def test_expertise_zoeken_shows_its_results_in_the_modal(world: World) -> None:
    async with world.bot.db.transaction() as repos:
        piet = await repos.members.by_identity("slack", PIET.id)
    assert piet is not None
    await add_expertise(world.bot, piet, "gedrag")
    await world.slack.shortcut("expertise_zoeken", ANNA)
    await world.adapter.drain()
    [opened] = await world.fake.wait_for_calls("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "expertise.zoeken"
    empty = await world.slack.submit(view, {"query": ""}, ANNA)
    assert empty.json["response_action"] == "errors" and "query" in empty.json["errors"]
    found = await world.slack.submit(view, {"query": "gedrag"}, ANNA)
    assert found.json["response_action"] == "update"
    results = found.json["view"]
    assert results["callback_id"] == "expertise.zoeken" and results["blocks"][0]["type"] == "input"
    assert "Piet" in texts(results["blocks"]) and "Expertise: gedrag" in texts(results["blocks"])
    again = await world.slack.submit(results, {"query": "sterrenkunde"}, ANNA)  # and search again in it
    assert again.json["response_action"] == "update"


async def test_malformed_or_unknown_shortcuts_get_a_dutch_message_and_change_nothing(world: World) -> None:
    world.fake.add_message(OUTER, IDEA_TS, ANNA.id, IDEA)
    malformed = {"type": "message_action", "callback_id": "idee_maken", "user": "U0ANNA",  # user: not an object
                 "channel": {"id": OUTER}, "trigger_id": "1.T.x", "message_ts": IDEA_TS, "message": {"text": IDEA}}
    answer = await world.slack.form({"payload": json.dumps(malformed)})
    assert answer.status == 200 and "niet lezen" in answer.json["text"]
    no_user = {"type": "shortcut", "callback_id": "pitch_indienen", "trigger_id": "1.T.x"}
    answer = await world.slack.form({"payload": json.dumps(no_user)})
    assert answer.status == 200 and "niet lezen" in answer.json["text"]
    unsigned = await world.slack.form({"payload": json.dumps(no_user)}, secret="wrong-secret")
    assert unsigned.status == 401
    unknown = await world.slack.shortcut("iets_anders", ANNA)
    assert unknown.status == 200 and "Die snelkoppeling ken ik niet" in unknown.json["text"]
    await world.adapter.drain()
    assert await ideas(world) == []
    assert not world.fake.ok_calls("views.open") and not world.fake.ok_calls("chat.postMessage")


def test_the_manifest_declares_the_home_tab_and_every_shortcut_the_adapter_answers() -> None:
    from bot.adapters.slack.home import GLOBAL_SHORTCUTS, MESSAGE_SHORTCUTS
    from tests.adapters.test_slack_manifest import manifest

    features = manifest()["features"]
    declared = {s["callback_id"]: s["type"] for s in features["shortcuts"]}
    assert declared == {**dict.fromkeys(GLOBAL_SHORTCUTS, "global"), **dict.fromkeys(MESSAGE_SHORTCUTS, "message")}
    assert all(s["description"] and s["name"] for s in features["shortcuts"])
    assert features["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in manifest()["settings"]["event_subscriptions"]["bot_events"]
