"""Issue 19, item 1: a person's member and rights are read beside the session (storage/accounts.py), the same
records as through it, so that their first input in a process (and their first after a change to them) costs
no transaction of its own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from bot import dispatch
from bot.app import Bot
from bot.core.clock import ManualClock
from bot.core.inputs import Actor
from bot.core.reply import Reply
from storage.records import MemberRecord
from storage.repositories import MemberRepository, Repositories
from tests.conftest import started_bot
from tests.support import add_expertise, add_member, add_organisation, run, text_of


def recorded(bot: Bot) -> list[str]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(bot.db.engine.sync_engine, "before_cursor_execute", record)
    return statements


async def test_a_known_member_s_first_search_in_a_new_process_reads_nothing_through_the_session(
        database_url: str, clock: ManualClock) -> None:
    async with started_bot(database_url, clock) as first:
        school = await add_organisation(first, "De Regenboog")
        expert = await add_member(first, "Fatima Yilmaz", user_id="U7", organisation=school)
        await add_expertise(first, expert, "gedrag", "Time-out plekken in de klas")
        await add_member(first, "Coördinator Kees", user_id="U8")
        async with first.db.transaction() as repos:
            await repos.coordinators.add("console", "U8", expert.id, clock.now())
    async with started_bot(database_url, clock) as bot:  # a new process: nothing kept in memory
        await run(bot, "/expertise gedrag", Actor("console", "U0", "iemand"))  # opens the PostgreSQL peek
        statements = recorded(bot)
        own = await run(bot, "/expertise gedrag", Actor("console", "U7", "fatima"))
        coordinator = await run(bot, "/expertise gedrag", Actor("console", "U8", "coordinator"))
        assert not [s for s in statements if "identities" in s or "coordinators" in s], statements
        assert "Fatima Yilmaz" in text_of(own) and "Fatima Yilmaz" in text_of(coordinator)
        # she is known as herself (no button to message herself), the coordinator as someone else
        assert "Stuur bericht" not in text_of(own) and "Stuur bericht" in text_of(coordinator)


class Unused:
    """A sender for `keep_time` where nothing is sent."""

    async def send(self, channel: str, reply: Reply) -> str:
        raise AssertionError("nothing is sent here")

    async def update(self, channel: str, ref: str, reply: Reply) -> None:
        raise AssertionError("nothing is updated here")


def reads_beside(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The reads beside the session other than the version read (storage.db `rows`), as they are made."""
    state = bot.db._committed_state
    assert state is not None
    made: list[str] = []
    rows = type(state).rows

    def counting(self: Any, sql: str, *params: Any, version: int | None = None) -> Any:
        made.append(sql)
        return rows(self, sql, *params, version=version)

    monkeypatch.setattr(type(state), "rows", counting)
    return made


async def test_a_member_s_first_input_reads_member_accounts_and_rights_at_once(
        database_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """One read beside the session, not three (member, their accounts, their rights): on PostgreSQL each is a
    round trip on the ack's path of a person's first input (bench/ack_latency.py --users 100)."""
    async with started_bot(database_url, clock) as bot, started_bot(database_url, clock) as other:
        await run(bot, "/expertise gedrag", Actor("console", "U0", "iemand"))  # opens the PostgreSQL peek
        coordinator = await add_member(other, "Coördinator Kees", user_id="U8")  # not kept by `bot` at its start
        await add_member(other, "Jan de Vries", user_id="U9")
        async with other.db.transaction() as repos:
            await repos.members.link(coordinator.id, "slack", "S8")
            await repos.coordinators.add("console", "U8", coordinator.id, clock.now())
        made = reads_beside(bot, monkeypatch)
        statements = recorded(bot)
        kees = await run(bot, "/netwerkbot aanvragen", Actor("console", "U8", "kees"))
        assert len(made) == 1  # the member, both accounts and the rights: one read
        jan = await run(bot, "/netwerkbot aanvragen", Actor("console", "U9", "jan"))
        assert len(made) == 2
        assert not [s for s in statements if "identities" in s or "coordinators " in s], statements
        assert "geen open aanvragen" in text_of(kees)  # a coordinator, as read with his member
        assert "geen open aanvragen" not in text_of(jan)
        await run(bot, "/expertise gedrag", Actor("console", "U404", "nieuw"))  # no member: answered as a stranger
        assert len([sql for sql in made if "coordinators" in sql]) == 3  # the rights came with finding no member


async def test_after_a_start_the_members_seen_last_are_known_before_their_first_input(
        database_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """A restart (a deploy) costs no one a read of their member on their first input after it; kept are the
    members seen most recently, up to the dispatcher's bound."""
    async with started_bot(database_url, clock) as first:
        kees = await add_member(first, "Coördinator Kees", user_id="U8")
        jan, _, anna = [await add_member(first, name, user_id=f"U{n}")
                        for n, name in enumerate(("Jan de Vries", "Fatima Yilmaz", "Anna Bakker"))]
        async with first.db.transaction() as repos:
            await repos.coordinators.add("console", "U8", kees.id, clock.now())
        for member in (jan, kees, anna):  # seen in this order; Fatima never
            async with first.db.transaction() as repos:
                await repos.privacy.seen(member.id, clock.now())
            clock.advance(timedelta(days=1))
    monkeypatch.setattr(dispatch, "CACHED_MEMBERS", 4)  # two members kept at the start
    async with started_bot(database_url, clock) as bot:
        await bot.keep_time(Unused())  # as every adapter does before it serves
        made = reads_beside(bot, monkeypatch)
        statements = recorded(bot)
        answer = await run(bot, "/netwerkbot aanvragen", Actor("console", "U8", "kees"))
        await run(bot, "/expertise gedrag", Actor("console", "U2", "anna"))
        assert made == [] and not [s for s in statements if "identities" in s or "coordinators " in s]
        assert "geen open aanvragen" in text_of(answer)  # his rights were kept with him
        await run(bot, "/expertise gedrag", Actor("console", "U0", "jan"))  # seen longest ago: not kept
        assert len(made) == 1 and "identities" in made[0]


async def test_read_beside_the_session_a_member_is_the_same_record_as_through_it(
        database_url: str, clock: ManualClock) -> None:
    async with started_bot(database_url, clock) as bot:
        school = await add_organisation(bot, "De Regenboog")
        member = await add_member(bot, "Fatima Yilmaz", user_id="U7", organisation=school, email="f@example.nl")
        plain = await add_member(bot, "Jan de Vries", user_id="U9")
        async with bot.db.transaction() as repos:
            await repos.members.link(member.id, "slack", "S7")
            await repos.members.update(member.id, profile_fetched_at=clock.now() - timedelta(hours=3))
            await repos.coordinators.add("console", "U9", plain.id, clock.now())
            await repos.coordinators.add("console", "U5", plain.id, clock.now())  # an account without a member
        async with bot.db.transaction() as repos:
            await repos.expertise.search_state()  # as the dispatcher: the version first (opens PostgreSQL's peek)

        async def read(repos: Repositories) -> tuple[MemberRecord | None, dict[str, MemberRecord], MemberRecord | None,
                                                       bool, bool, bool, bool]:
            return (await repos.members.by_identity("console", "U7"),
                    await repos.members.by_identities("console", ["U7", "U9", "U404", "U5"]),
                    await repos.members.by_identity("console", "U404"),
                    await repos.coordinators.is_coordinator("console", "U9"),
                    await repos.coordinators.is_coordinator("console", "U7"),
                    await repos.coordinators.is_coordinator("console", "U5"),
                    await repos.coordinators.is_coordinator("console", "U404"))

        statements = recorded(bot)
        async with bot.db.transaction() as repos:
            beside = await read(repos)
        assert statements == []  # not one statement through the session
        async with bot.db.transaction() as repos:
            await repos.session.execute(text("SELECT 1"))  # the session has begun: it reads everything itself
            through = await read(repos)
        assert beside == through
        found = beside[0]
        assert found is not None
        assert found.organisation == school and found.email == "f@example.nl"
        assert found.identities == (("console", "U7"), ("slack", "S7"))
        assert found.profile_fetched_at == clock.now() - timedelta(hours=3)
        assert set(beside[1]) == {"U7", "U9"} and beside[2] is None and beside[3:] == (True, False, True, False)


async def test_a_start_whose_members_read_fails_starts_all_the_same(
        sqlite_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    async with started_bot(sqlite_url, clock) as first:
        await add_member(first, "Jan de Vries", user_id="U0")

    async def failing(_self: MemberRepository, _most: int) -> None:
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(MemberRepository, "recent", failing)
    async with started_bot(sqlite_url, clock) as bot:  # only a head start: the member is read when he asks
        await bot.keep_time(Unused())
        answer = await run(bot, "/netwerkbot profiel", Actor("console", "U0", "jan"))
        assert "Jan de Vries" in text_of(answer)
