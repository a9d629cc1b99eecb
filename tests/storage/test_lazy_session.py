"""Issue 19 (the ack's time): a transaction's session and repositories are set up when first used, so a search asked
again, which reads nothing through its session, pays for neither (storage/session.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Bot
from bot.core.clock import ManualClock
from storage.changes import BEGUN
from storage.session import is_set_up
from tests.adapters.test_slack_e2e import ASKER, running, texts
from tests.support import add_expertise, add_member


async def test_a_search_asked_again_over_slack_sets_up_no_session(database_url: str, clock: ManualClock,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    async with running(database_url, clock) as world:
        holder = await add_member(world.bot, "Fatima Yilmaz")
        await add_expertise(world.bot, holder, "gedrag", "Time-out plekken in de klas")
        assert (await world.slack.command("/expertise", "gedrag", ASKER)).status == 200
        await world.adapter.drain()  # the asker's profile, looked up after the first answer
        set_up: list[AsyncSession] = []
        setting_up = AsyncSession.__init__

        def counted(session: AsyncSession, *args: Any, **kwargs: Any) -> None:
            set_up.append(session)
            setting_up(session, *args, **kwargs)

        monkeypatch.setattr(AsyncSession, "__init__", counted)
        again = await world.slack.command("/expertise", "gedrag", ASKER)
        assert again.status == 200 and "Fatima Yilmaz" in texts(again.json["blocks"])
        assert set_up == []
        other = await add_member(world.bot, "Joost de Vries")  # a write still sets one up, and is committed
        await add_expertise(world.bot, other, "gedrag", "Rustige hoek")
        assert len(set_up) >= 2
        after = await world.slack.command("/expertise", "gedrag", ASKER)
        assert "Joost de Vries" in texts(after.json["blocks"])


async def test_what_a_transaction_keeps_before_its_session_is_set_up_is_the_session_s_own(sqlite_bot: Bot) -> None:
    async with sqlite_bot.db.transaction() as repos:
        repos.session.info["kept"] = 1
        assert not is_set_up(repos.session) and "votes" not in vars(repos)
        await repos.session.execute(text("SELECT 1"))
        assert is_set_up(repos.session)
        assert repos.session.sync_session.info["kept"] == 1  # one dict, before and after
        assert repos.session.info[BEGUN]  # written by SQLAlchemy's event on the session itself
        coordinators = repos.coordinators
        assert repos.coordinators is coordinators  # made once: what it keeps lasts the transaction
        assert "votes" not in vars(repos)  # never used, never made
