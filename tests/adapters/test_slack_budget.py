"""The budget round over signed Slack HTTP against the fake Web API: opened in a modal, a ballot with
checkboxes, the close at the deadline and its result posted."""

from __future__ import annotations

from datetime import datetime

from bot.core.clock import ManualClock
from tests.adapters.test_slack_e2e import World, texts
from tests.adapters.test_slack_proposals import BART, COORDINATOR, INGRID, PROPOSALS, THOMAS, button, modal, posted
from tests.adapters.test_slack_proposals import world as world
from tests.conftest import AMS
from tests.fake_slack import block_problems

PITCH = {"summary": "Samen.", "benefit": "Voor de wijk.", "theme": "groeiklas", "contact": "Ingrid",
         "schools": "Baeken"}


async def test_a_budget_round_over_slack(world: World, clock: ManualClock) -> None:
    for title, amount in (("Groeiklas", "€ 30.000"), ("Gedrag", "€ 20.000"), ("Thuiszitters", "€ 25.000")):
        view = await modal(world, "/pitch", INGRID)
        assert (await world.slack.submit(view, PITCH | {"title": title, "amount": amount}, INGRID)).status == 200
    await posted(world, 3)
    before = len(world.fake.ok_calls("views.open"))
    await world.slack.command("/stemming", "begroting", COORDINATOR, channel=PROPOSALS)
    view = (await world.fake.wait_for_calls("views.open", before + 1))[-1].params["view"]
    assert view["callback_id"] == "begroting.form"
    answer = await world.slack.submit(view, {"budget": "€ 50.000", "pitches": "1, 2, 3", "electorate": "schools",
                                             "secret": "ja", "deadline": "vrijdag 17:00"}, COORDINATOR)
    assert answer.status == 200
    message = (await posted(world, 4))[-1]
    assert "Begrotingsronde #1: budget" in texts(message["blocks"]) and block_problems(message["blocks"]) == []

    for user, ticked in ((INGRID, "1"), (THOMAS, "2,3")):
        opened = len(world.fake.ok_calls("views.open"))
        await world.slack.press(button(message["blocks"], "Stemmen"), user,
                                response_url=world.fake.response_url(user.id), channel=PROPOSALS)
        ballot = (await world.fake.wait_for_calls("views.open", opened + 1))[-1].params["view"]
        [element] = [b["element"] for b in ballot["blocks"] if b["type"] == "input"]
        assert element["type"] == "checkboxes" and [o["value"] for o in element["options"]] == ["1", "2", "3"]
        assert block_problems(ballot["blocks"]) == []
        assert (await world.slack.submit(ballot, {"pitches": ticked}, user)).status == 200
    # Bart's ballot for Baeken opens with Ingrid's ticks: one ballot per school
    opened = len(world.fake.ok_calls("views.open"))
    await world.slack.press(button(message["blocks"], "Stemmen"), BART, response_url=world.fake.response_url("b"),
                            channel=PROPOSALS)
    ballot = (await world.fake.wait_for_calls("views.open", opened + 1))[-1].params["view"]
    [element] = [b["element"] for b in ballot["blocks"] if b["type"] == "input"]
    assert [o["value"] for o in element["initial_options"]] == ["1"]

    clock.set(datetime(2026, 11, 27, 17, 0, tzinfo=AMS))
    await world.bot.scheduler.run_due()
    result = texts((await posted(world, 5))[-1]["blocks"]).replace("\xa0", " ")
    assert "Uitslag begrotingsronde #1" in result
    assert "Toegekend: € 50.000,00 van € 50.000,00; over: € 0,00." in result
