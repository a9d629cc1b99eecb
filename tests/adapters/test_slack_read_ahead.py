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
from storage.db import _CommittedStatePostgres
from tests.adapters.test_slack_e2e import ASKER, World, running, texts
from tests.conftest import started_bot
from tests.support import add_expertise, add_member


def watched(world: World) -> tuple[list[str], _CommittedStatePostgres]:
    """In order: each version read sent beside the session ("read") and each input handed to the bot ("input")."""
    state = world.bot.db._committed_state
    assert isinstance(state, _CommittedStatePostgres)
    happened: list[str] = []
    read, dispatch = state._read, world.bot.dispatch

    def reading() -> Any:
        happened.append("read")
        return read()

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


async def test_what_was_read_ahead_is_taken_once_by_the_request_and_the_read_started_at_once() -> None:
    steps: list[str] = []

    async def read() -> int:
        steps.append("sent")
        await asyncio.sleep(0.01)
        steps.append("answered")
        return 7

    async def request() -> None:
        ahead.keep(read())
        assert steps == ["sent"]  # before anything awaited
        dispatch = asyncio.create_task(taking())  # the dispatch task copies the request's context
        assert await dispatch == 7
        assert ahead.take() is None  # the request's later transactions (after the ack) read for themselves
        assert await asyncio.create_task(taking()) is None

    async def taking() -> int | None:
        early = ahead.take()
        return None if early is None else await early

    await asyncio.create_task(request(), context=contextvars.Context())
    assert steps == ["sent", "answered"] and ahead.take() is None


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
