"""Privacy over signed Slack HTTP through the real bolt app: `/netwerkbot mijn gegevens` in the ack, and
`/netwerkbot vergeet mij` with its confirmation button; afterwards the member is gone from searches and
from the database's accounts."""

from __future__ import annotations

from bot.core.clock import ManualClock
from storage.models import Member
from tests.adapters.test_slack_e2e import all_buttons, button, running, texts
from tests.fake_slack import User
from tests.support import add_expertise, add_member

SANNE = User("U0SANNE", "sanne")
PIET = User("U0PIET", "piet")


async def test_a_member_sees_their_data_and_is_forgotten_after_pressing_ja(sqlite_url: str,
                                                                          clock: ManualClock) -> None:
    async with running(sqlite_url, clock) as w:
        sanne = await add_member(w.bot, "Sanne de Vries", user_id=SANNE.id, platform="slack")
        await add_expertise(w.bot, sanne, "gedrag", "Time-out zonder straf")

        mine = await w.slack.command("/netwerkbot", "mijn gegevens", SANNE)
        assert mine.status == 200 and mine.json["response_type"] == "ephemeral"
        shown = texts(mine.json["blocks"])
        assert "Jouw gegevens bij netwerkbot" in shown and "Sanne de Vries" in shown and "JSON-bestand" in shown

        question = await w.slack.command("/netwerkbot", "vergeet mij", SANNE)
        assert "Wil je dat ik je vergeet?" in texts(question.json["blocks"])
        yes = button(all_buttons(question.json["blocks"]), "Ja, vergeten")
        assert yes["style"] == "danger"
        refused = await w.slack.press(yes, PIET, response_url=w.fake.response_url("piet"))
        assert refused.status == 200
        assert "niet voor jou" in str((await w.fake.wait_for_responses())[0].body)

        pressed = await w.slack.press(yes, SANNE, response_url=w.fake.response_url("ja"))
        assert (pressed.status, pressed.text) == (200, "")
        answer = next(r for r in await w.fake.wait_for_responses(2) if r.name == "ja").body
        assert answer["replace_original"] is True and "Ik heb je vergeten" in str(answer)

        search = await w.slack.command("/expertise", "gedrag", PIET)
        assert "Sanne" not in search.text
        async with w.bot.db.transaction() as repos:
            assert await repos.members.by_identity("slack", SANNE.id) is None
            row = await repos.session.get(Member, sanne.id)
            assert row is not None and (row.name, row.email, row.erased_at is not None) == (
                "een voormalig lid", None, True)
