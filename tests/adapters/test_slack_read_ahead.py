"""Issue 19, item 2: on PostgreSQL a slash command's version read goes out while bolt still routes the request
(storage/ahead.py), over signed HTTP through the real bolt; its answer is still no older than the database."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest

from bot.core.clock import ManualClock
from bot.core.inputs import Input
from bot.core.reply import Outcome
from storage import ahead
from storage.accounts import member_query
from storage.committed import CommittedStatePostgres
from tests.adapters.test_slack_e2e import ASKER, World, running, texts
from tests.conftest import started_bot
from tests.fake_slack import User
from tests.support import add_expertise, add_member


def watched(world: World, members: bool = False) -> tuple[list[str], CommittedStatePostgres]:
    """In order: each version read sent beside the session ("read"; `members`: "read with member" when a member's
    read goes in the same statement) and each input handed to the bot ("input")."""
    state = world.bot.db._committed_state
    assert isinstance(state, CommittedStatePostgres)
    happened: list[str] = []
    read, dispatch = state._read, world.bot.dispatch

    def reading(rows: Any = None) -> Any:
        happened.append("read with member" if members and rows is not None else "read")
        return read(rows)

    async def dispatching(inp: Input) -> Outcome:
        happened.append("input")
        return await dispatch(inp)

    state._read = reading  # type: ignore[method-assign]
    world.bot.dispatch = dispatching  # type: ignore[method-assign]
    return happened, state


@pytest.mark.postgres
async def test_on_postgresql_a_slash_command_s_version_read_goes_out_before_bolt_routes_it(
        postgres_url: str, clock: ManualClock) -> None:
    async with running(postgres_url, clock) as world, started_bot(postgres_url, clock) as other:
        assert (await world.slack.command("/expertise", "gedrag", ASKER)).status == 200  # the reads' pool opens
        happened, _ = watched(world)
        holder = await add_member(other, "Fatima Yilmaz")  # another instance adds a holder of gedrag
        await add_expertise(other, holder, "gedrag", "Time-out plekken in de klas")

        answer = await world.slack.command("/expertise", "gedrag", ASKER)

        assert answer.status == 200 and "Fatima Yilmaz" in texts(answer.json["blocks"])  # no older than the database
        assert happened == ["read", "input"]  # sent before the input reached the bot, and read once
        assert (await world.slack.command("/expertise", "gedrag", ASKER)).status == 200
        assert happened == ["read", "input"] * 2


@pytest.mark.postgres
async def test_on_postgresql_a_read_ahead_on_a_dead_connection_costs_no_answer(postgres_url: str,
                                                                               clock: ManualClock) -> None:
    async with running(postgres_url, clock) as world:
        assert (await world.slack.command("/expertise", "gedrag", ASKER)).status == 200
        _, state = watched(world)
        assert state._kept is not None
        killer = await asyncpg.connect(state.dsn)
        try:
            await killer.execute("SELECT pg_terminate_backend($1)", state._kept.get_server_pid())
        finally:
            await killer.close()
        holder = await add_member(world.bot, "Fatima Yilmaz")
        await add_expertise(world.bot, holder, "gedrag", "Time-out plekken in de klas")
        for _ in range(2):  # the request whose read ahead finds it dead, and the one after it
            answer = await world.slack.command("/expertise", "gedrag", ASKER)
            assert answer.status == 200 and "Fatima Yilmaz" in texts(answer.json["blocks"])


@pytest.mark.postgres
async def test_on_postgresql_a_newcomer_s_member_is_read_with_the_version_before_bolt_routes_the_command(
        postgres_url: str, clock: ManualClock) -> None:
    """A person the bot holds no member of (imported, say, and asking for the first time): their member's read
    goes out at the door in the version read's statement, not after it, and the dispatcher reads it no more."""
    async with running(postgres_url, clock) as world:
        assert (await world.slack.command("/expertise", "gedrag", ASKER)).status == 200  # the reads' pool opens
        holder = await add_member(world.bot, "Fatima Yilmaz", user_id="U0FATIMA", platform="slack")
        await add_expertise(world.bot, holder, "gedrag", "Time-out plekken in de klas")
        world.fake.add_user("U0FATIMA", "Fatima El Amrani")
        happened, state = watched(world, members=True)
        fetch, dispatch = state._fetch, world.bot.dispatch

        async def fetching(sql: str, *params: Any) -> Any:
            if "FROM identities i" in sql and "search_state" not in sql:  # a member read of its own
                happened.append("member")
            return await fetch(sql, *params)

        async def dispatching(inp: Input) -> Outcome:
            outcome = await dispatch(inp)
            happened.append("answered")  # (after it: the newcomer's profile, looked up and their member read)
            return outcome

        state._fetch = fetching  # type: ignore[method-assign]
        world.bot.dispatch = dispatching  # type: ignore[method-assign]

        answer = await world.slack.command("/expertise", "gedrag", User("U0FATIMA", "fatima"))

        assert answer.status == 200 and "Fatima Yilmaz" in texts(answer.json["blocks"])
        assert happened[:happened.index("answered")] == ["read with member", "input"]  # not read again
        await world.adapter.drain()  # her profile is looked up: Slack names her otherwise
        del happened[:]
        again = await world.slack.command("/expertise", "gedrag", User("U0FATIMA", "fatima"))
        assert "Fatima El Amrani" in texts(again.json["blocks"])  # her member read again, again at the door
        assert happened == ["read with member", "input", "answered"]
        del happened[:]
        third = await world.slack.command("/expertise", "gedrag", User("U0FATIMA", "fatima"))
        assert third.status == 200 and happened == ["read", "input", "answered"]  # now held: only the version


@pytest.mark.postgres
async def test_on_postgresql_a_member_read_ahead_at_another_version_than_the_transaction_s_is_read_again(
        postgres_url: str, clock: ManualClock) -> None:
    async with started_bot(postgres_url, clock) as bot, started_bot(postgres_url, clock) as other:
        member = await add_member(bot, "Fatima Yilmaz", user_id="U0FATIMA", platform="slack")
        state = bot.db._committed_state
        assert isinstance(state, CommittedStatePostgres) and await state() is not None  # the reads' pool opens
        query = member_query("slack", "U0FATIMA")

        async def read_at(version: int, renamed: str) -> str:
            state.read_ahead(query)  # read now, at the version of now
            await asyncio.wait(list((ahead._AHEAD.get() or {}).values()))  # (and answered, before what follows)
            async with other.db.transaction() as repos:  # another instance renames her: the version goes up
                await repos.members.update(member.id, name=renamed)
            rows = await state.rows(query[0], *query[1], version=version)
            assert rows is not None
            return str(rows[0][3])

        now = (await state() or (0, 0))[0]
        assert await asyncio.create_task(read_at(now, "Fatima El Amrani")) == "Fatima Yilmaz"  # read at `now`: kept
        # read ahead at the version after `now`, not the transaction's: read again
        assert await asyncio.create_task(read_at(now, "Fatima Yilmaz-El Amrani")) == "Fatima Yilmaz-El Amrani"


@pytest.mark.postgres
async def test_on_postgresql_a_member_read_with_the_version_gives_each_change_and_each_of_her_accounts_once(
        postgres_url: str, clock: ManualClock) -> None:
    """In one statement each row of her member stands beside each change since the last read: taken apart again."""
    async with started_bot(postgres_url, clock) as bot:
        member = await add_member(bot, "Fatima Yilmaz", user_id="U0FATIMA", platform="slack")
        state = bot.db._committed_state
        assert isinstance(state, CommittedStatePostgres)
        before = (await state() or (0, 0))[0]
        async with bot.db.transaction() as repos:  # two changes: her second account, a new name
            await repos.members.link(member.id, "matrix", "@fatima:netwerk.nl")
        async with bot.db.transaction() as repos:
            await repos.members.update(member.id, name="Fatima El Amrani")

        version, found = await state._read(member_query("slack", "U0FATIMA"))

        assert version is not None and found is not None
        assert sorted((row[12], row[3]) for row in found) == [("matrix", "Fatima El Amrani"),
                                                               ("slack", "Fatima El Amrani")]
        changes = state.recent.since(before, version[0])
        assert changes is not None and len(changes) == len(set(changes)) >= 2


async def test_what_was_read_ahead_is_taken_once_by_the_request_and_the_read_started_at_once() -> None:
    steps: list[str] = []

    async def read() -> int:
        steps.append("sent")
        await asyncio.sleep(0.01)
        steps.append("answered")
        return 7

    async def request() -> None:
        ahead.keep({"version": ahead.eagerly(read())})
        assert steps == ["sent"]  # before anything awaited
        dispatch = asyncio.create_task(taking())  # the dispatch task copies the request's context
        assert await dispatch == 7
        assert ahead.take("version") is None  # the request's later transactions (after the ack) read for themselves
        assert await asyncio.create_task(taking()) is None

    async def taking() -> int | None:
        early = ahead.take("version")
        return None if early is None else await early

    await asyncio.create_task(request(), context=contextvars.Context())
    assert steps == ["sent", "answered"] and ahead.take("version") is None


async def test_a_coroutine_started_eagerly_keeps_its_context_to_itself_as_a_task_would() -> None:
    """What its first step sets is not seen by the caller, and it can reset that after it waited."""
    marked: contextvars.ContextVar[str] = contextvars.ContextVar("marked", default="")

    async def marking() -> str:
        token = marked.set("read")
        await asyncio.sleep(0)
        seen = marked.get()
        marked.reset(token)  # (raises when the first step ran in another context than the rest)
        return seen

    started = ahead.eagerly(marking())
    assert marked.get() == ""
    assert await started == "read"


async def test_a_coroutine_started_eagerly_fails_and_is_cancelled_as_a_task_would() -> None:
    async def failing() -> int:
        await asyncio.sleep(0)
        raise ValueError("weg")

    with pytest.raises(ValueError, match="weg"):
        await ahead.eagerly(failing())
    cleaned: list[str] = []

    async def slow() -> int:
        try:
            await asyncio.sleep(10)
        finally:
            cleaned.append("closed")
        return 1

    started = ahead.eagerly(slow())
    await asyncio.sleep(0)
    started.cancel()
    with pytest.raises(asyncio.CancelledError):
        await started
    assert cleaned == ["closed"]
