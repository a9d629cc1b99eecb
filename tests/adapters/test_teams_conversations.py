"""Where the bot may write by itself on Teams, on SQLite and PostgreSQL: a channel it was added to (until it is
removed again) and the personal chat of a member (until the member is forgotten)."""

from __future__ import annotations

import pytest

from bot.core.clock import ManualClock
from bot.core.port import DeliveryRefused
from bot.core.reply import Reply
from tests.adapters.test_teams_e2e import PIET, running
from tests.fake_teams import BOT_ID, buttons, card_texts
from tests.support import add_member

PROPOSALS = "19:voorstellen@thread.tacv2"


async def test_a_channel_is_written_to_while_the_bot_is_in_it(database_url: str, clock: ManualClock) -> None:
    async with running(database_url, clock, teams_channel_proposals=PROPOSALS) as w:
        with pytest.raises(DeliveryRefused):  # not added yet: Teams would refuse a proactive post
            await w.adapter.send("proposals", Reply.text("Uitslag"))
        assert (await w.teams.installed(PIET, PROPOSALS)).status == 202
        ref = await w.adapter.send("proposals", Reply.text("Uitslag"))
        assert ref.startswith(PROPOSALS + "/") and "Uitslag" in card_texts(w.fake.to(PROPOSALS)[-1].card())
        removed = w.teams.base(PIET, PROPOSALS, "channel") | {"type": "conversationUpdate",
                                                               "membersRemoved": [{"id": BOT_ID}]}
        assert (await w.teams.post(removed)).status == 202
        with pytest.raises(DeliveryRefused):
            await w.adapter.send("proposals", Reply.text("Nog een uitslag"))


async def test_a_forgotten_member_has_no_personal_chat_kept(database_url: str, clock: ManualClock) -> None:
    async with running(database_url, clock) as w:
        piet = await add_member(w.bot, "Piet Jansen", user_id=PIET.aad, platform="teams")
        await w.teams.message(PIET, "netwerkbot vergeet mij")
        question = w.fake.to(f"a:personal-{PIET.aad}")[-1].card()
        [yes] = [b for b in buttons(question) if b["title"] == "Ja, vergeten"]
        status, answer = await w.teams.press(PIET, yes)
        assert status == 200 and "Ik heb je vergeten" in str(answer["value"])
        async with w.bot.db.transaction() as repos:
            assert await repos.members.by_identity("teams", PIET.aad) is None
        with pytest.raises(DeliveryRefused):
            await w.adapter.send(f"member:{piet.id}", Reply.text("Herinnering"))
        assert await w.adapter.store.conversation(f"a:personal-{PIET.aad}") is None  # the row itself is gone
