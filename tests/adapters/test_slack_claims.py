"""Which deliveries are written down (issue 19): a Slack slash command is claimed only when it writes.

Slack never sends a slash command or a form again by itself; only a replayed request repeats one, and its
answer goes back in the response to that request. So a search or a listing writes nothing at all (no claim
that waits for the one SQLite writer, or for PostgreSQL's disk), a replay of it is simply answered again,
and a replay of a command that wrote is still rolled back when its claim turns out taken. Events, which
Slack retries, are claimed before they are handled (tests/adapters/test_slack_e2e.py,
`test_an_event_retried_by_slack_is_handled_once`).
"""

from __future__ import annotations

import time
import urllib.parse
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select

from bot.core.clock import ManualClock
from storage.models import Delivery, Member
from tests.adapters.test_slack_e2e import ASKER, CHANNEL, World, running
from tests.fake_slack import User
from tests.support import add_expertise, add_member

FORM = "application/x-www-form-urlencoded"


async def deliveries(w: World) -> int:
    async with w.bot.db.transaction() as repos:
        return int(await repos.session.scalar(select(func.count()).select_from(Delivery)) or 0)


async def test_a_search_writes_nothing_not_even_its_claim(database_url: str, clock: ManualClock) -> None:
    async with running(database_url, clock) as w:
        anna = await add_member(w.bot, "Anna Bakker", user_id="U0ANNA", platform="slack")
        await add_expertise(w.bot, anna, "gedrag", "Observaties in de klas")
        assert "Anna Bakker" in (await w.slack.command("/expertise", "gedrag", ASKER)).text  # the asker's first
        await w.adapter.drain()
        claimed = await deliveries(w)
        sent: list[str] = []

        def watch(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            sent.append(statement)

        event.listen(w.bot.db.engine.sync_engine, "before_cursor_execute", watch)
        try:
            answers = [await w.slack.command("/expertise", "gedrag", ASKER) for _ in range(3)]
            await w.adapter.drain()
        finally:
            event.remove(w.bot.db.engine.sync_engine, "before_cursor_execute", watch)

        assert all(a.status == 200 and "Anna Bakker" in a.text for a in answers)
        assert [s for s in sent if not s.lstrip().upper().startswith("SELECT")] == []  # not one write
        assert await deliveries(w) == claimed


async def test_a_replayed_search_is_answered_again(database_url: str, clock: ManualClock) -> None:
    async with running(database_url, clock) as w:
        anna = await add_member(w.bot, "Anna Bakker", user_id="U0ANNA", platform="slack")
        await add_expertise(w.bot, anna, "gedrag", "Observaties in de klas")
        fields = w.slack.command_fields("/expertise", "gedrag", ASKER, channel=CHANNEL)
        body, stamp = urllib.parse.urlencode(fields), int(time.time())
        first = await w.slack.post(body, FORM, timestamp=stamp)
        again = await w.slack.post(body, FORM, timestamp=stamp)
        assert first.status == again.status == 200
        assert "Anna Bakker" in first.text and "Anna Bakker" in again.text


async def test_a_replayed_command_that_wrote_is_answered_but_not_applied_again(database_url: str,
                                                                              clock: ManualClock) -> None:
    async with running(database_url, clock) as w:
        fields = w.slack.command_fields("/overleg", "agenda Voortgang thuiszitters", ASKER, channel=CHANNEL)
        body, stamp = urllib.parse.urlencode(fields), int(time.time())
        first = await w.slack.post(body, FORM, timestamp=stamp)
        claimed = await deliveries(w)
        again = await w.slack.post(body, FORM, timestamp=stamp)

        assert first.status == again.status == 200
        assert "Voortgang thuiszitters" in first.text and "Voortgang thuiszitters" not in again.text
        agenda = await w.slack.command("/overleg", "agenda", ASKER, channel=CHANNEL)
        assert agenda.text.count("Voortgang thuiszitters") == 1
        assert await deliveries(w) == claimed  # the replay's claim was rolled back with what it wrote


async def last_seen(w: World, member_id: int) -> datetime | None:
    async with w.bot.db.transaction() as repos:
        return await repos.session.scalar(select(Member.last_seen_at).where(Member.id == member_id))


async def test_a_search_marks_its_asker_seen_with_the_next_write_or_ten_minutes_later(database_url: str,
                                                                                     clock: ManualClock) -> None:
    async with running(database_url, clock) as w:
        anna = await add_member(w.bot, "Anna Bakker", user_id="U0ANNA", platform="slack")
        bert = await add_member(w.bot, "Bert Smit", user_id="U0BERT", platform="slack")
        await add_expertise(w.bot, anna, "gedrag", "Observaties in de klas")
        assert "Anna Bakker" in (await w.slack.command("/expertise", "gedrag", User("U0ANNA", "anna"))).text
        assert await last_seen(w, anna.id) is None  # not on the answer's path

        clock.advance(timedelta(minutes=9))
        await w.slack.command("/expertise", "gedrag", User("U0ANNA", "anna"))
        assert await last_seen(w, anna.id) is None
        clock.advance(timedelta(minutes=1))  # the first has waited ten minutes: written with this search
        await w.slack.command("/expertise", "gedrag", User("U0ANNA", "anna"))
        assert await last_seen(w, anna.id) == clock.now()

        # a command that writes anyway takes the waiting ones along at once
        await w.slack.command("/expertise", "gedrag", User("U0BERT", "bert"))
        assert await last_seen(w, bert.id) is None
        await w.slack.command("/overleg", "agenda Voortgang thuiszitters", User("U0BERT", "bert"), channel=CHANNEL)
        assert await last_seen(w, bert.id) == clock.now()
