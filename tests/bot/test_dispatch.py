"""The dispatcher: one transaction per input, errors become Dutch replies, deliveries count once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

import storage.db
from bot.app import Bot, build
from bot.core.clock import ManualClock
from bot.core.errors import UserError
from bot.core.inputs import Action, Change, ChannelMessage, Command
from bot.core.reply import Reply
from handlers.context import Feature, HandlerContext
from tests.conftest import make_settings, started_bot
from tests.support import actor, run, text_of


def exploding_feature(error: Exception) -> Feature:
    """A command that writes, then fails: the write must not survive."""

    async def boom(ctx: HandlerContext, cmd: Command) -> Reply:
        await ctx.repos.members.update(ctx.member.id, role="directeur")
        raise error

    feature: Feature = Feature("test")
    feature.command("boem", boom)
    return feature


async def role_of(bot: Bot, user_id: str = "U1") -> str:
    async with bot.db.transaction() as repos:
        member = await repos.members.by_identity("console", user_id)
        return member.role if member else "<geen lid>"


async def test_unknown_command_is_answered_in_dutch(sqlite_bot: Bot) -> None:
    reply = await run(sqlite_bot, "/bestaatniet iets")
    assert isinstance(reply, Reply) and reply.is_error
    assert text_of(reply) == "! Die opdracht ken ik niet: /bestaatniet. Typ /netwerkbot voor alles wat ik kan."


async def test_unexpected_error_apologises_with_a_reference_that_is_logged_and_saves_nothing(
        bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    bot.registry.add(exploding_feature(RuntimeError("kapot")))
    await run(bot, "/netwerkbot profiel")  # the member exists, with no role
    with caplog.at_level(logging.ERROR):
        reply = await run(bot, "/boem")
    text = text_of(reply)
    assert "er ging iets mis aan mijn kant. Er is niets opgeslagen" in text
    reference = text.rsplit("kenmerk ", 1)[1].rstrip(".")
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and logged[0].exc_info is not None and "kapot" in str(logged[0].exc_info[1])
    assert await role_of(bot) == ""


async def test_domain_error_rolls_back_what_the_handler_wrote(sqlite_bot: Bot) -> None:
    sqlite_bot.registry.add(exploding_feature(UserError("Dat mag niet.")))
    await run(sqlite_bot, "/netwerkbot profiel")
    assert text_of(await run(sqlite_bot, "/boem")) == "! Dat mag niet."
    assert await role_of(sqlite_bot) == ""


async def test_first_contact_makes_a_member_named_as_the_platform_said(bot: Bot) -> None:
    text = text_of(await run(bot, "/netwerkbot profiel", actor("U7", name="Joost Visser")))
    assert "Naam: Joost Visser" in text


@pytest.mark.postgres
async def test_a_message_nobody_can_be_named_for_makes_no_member(sqlite_bot: Bot) -> None:
    gone = ChannelMessage("", actor(""), "C0BUITEN", "1700000000.000100", change=Change.DELETED)
    assert await sqlite_bot.dispatcher.dispatch(gone) is None
    async with sqlite_bot.db.transaction() as repos:
        assert await repos.members.all() == []


async def test_simultaneous_first_contacts_make_one_member(postgres_url: str, clock: ManualClock) -> None:
    async with started_bot(postgres_url, clock) as bot:
        who = actor("U-new", name="Nieuw")
        replies = await asyncio.gather(*(run(bot, "/expertise toevoegen gedrag", who) for _ in range(8)))
        assert all(isinstance(r, Reply) and not r.is_error for r in replies), [text_of(r) for r in replies]
        async with bot.db.transaction() as repos:
            named = [m for m in await repos.members.all() if m.name == "Nieuw"]
        assert len(named) == 1
        assert text_of(await run(bot, "/expertise mijn", who)).count("• ") == 1


async def test_a_delivery_seen_before_is_not_handled_again(bot: Bot) -> None:
    calls: list[str] = []

    async def count(ctx: HandlerContext, cmd: Command) -> Reply:
        calls.append(cmd.delivery_id)
        return Reply.text("ok")

    feature: Feature = Feature("test")
    feature.command("tel", count)
    bot.registry.add(feature)
    first = await bot.dispatcher.dispatch(Command("tel", "", actor(), delivery_id="Ev1"))
    again = await bot.dispatcher.dispatch(Command("tel", "", actor(), delivery_id="Ev1"))
    other = await bot.dispatcher.dispatch(Command("tel", "", actor(), delivery_id="Ev2"))
    assert isinstance(first, Reply) and again is None and isinstance(other, Reply)
    assert calls == ["Ev1", "Ev2"]
    message = ChannelMessage("hoi", actor(), "C1", "1.0", delivery_id="Ev3")
    assert await bot.dispatcher.dispatch(message) is None


class Proxy:
    """A TCP proxy in front of PostgreSQL that a test can cut and restore: a database outage."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.server: asyncio.Server | None = None
        self.port = 0
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.fixture
async def proxied_bot(postgres_url: str, clock: ManualClock) -> AsyncIterator[tuple[Bot, Proxy]]:
    url = make_url(postgres_url)
    proxy = Proxy(url.port or 5432)
    await proxy.start()
    bot = build(make_settings(url.set(port=proxy.port).render_as_string(hide_password=False)), clock=clock)
    await bot.start()
    yield bot, proxy
    await proxy.cut()
    await bot.stop()


@pytest.mark.postgres
async def test_database_outage_gets_a_short_dutch_notice_and_the_bot_recovers(
        proxied_bot: tuple[Bot, Proxy], clock: ManualClock) -> None:
    bot, proxy = proxied_bot
    assert "Toegevoegd: gedrag" in text_of(await run(bot, "/expertise toevoegen gedrag"))
    await proxy.cut()
    down = await run(bot, "/expertise toevoegen dyslexie")
    assert isinstance(down, Reply) and down.is_error
    assert "De database is even niet bereikbaar" in text_of(down)
    await proxy.start()  # the same port comes back
    clock.advance(timedelta(minutes=1))
    mine = text_of(await run(bot, "/expertise mijn"))
    assert "gedrag" in mine and "dyslexie" not in mine  # nothing half-saved during the outage
    assert "Toegevoegd: dyslexie" in text_of(await run(bot, "/expertise toevoegen dyslexie"))


@pytest.mark.postgres
async def test_a_connection_cut_while_resting_is_replaced_before_anyone_notices(
        proxied_bot: tuple[Bot, Proxy], monkeypatch: pytest.MonkeyPatch) -> None:
    """A database restart at night: the morning's first command is answered, not refused."""
    bot, proxy = proxied_bot
    monkeypatch.setattr(storage.db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every pooled connection has rested
    assert "Toegevoegd: gedrag" in text_of(await run(bot, "/expertise toevoegen gedrag"))
    await proxy.cut()  # the pooled connection dies with it
    await proxy.start()
    assert "Toegevoegd: dyslexie" in text_of(await run(bot, "/expertise toevoegen dyslexie"))


@pytest.mark.postgres
async def test_the_bot_starts_once_the_database_comes_up(postgres_url: str, clock: ManualClock) -> None:
    url = make_url(postgres_url)
    proxy = Proxy(url.port or 5432)
    await proxy.start()
    await proxy.cut()  # the database is "down" when the bot starts
    bot = build(make_settings(url.set(port=proxy.port).render_as_string(hide_password=False),
                              startup_wait_seconds=30), clock=clock)
    starting = asyncio.create_task(bot.start())
    await asyncio.wait({starting}, timeout=1.0)
    assert not starting.done()  # still waiting, not crashed
    await proxy.start()
    await asyncio.wait_for(starting, timeout=20)
    try:
        assert "Toegevoegd: gedrag" in text_of(await run(bot, "/expertise toevoegen gedrag"))
    finally:
        await proxy.cut()
        await bot.stop()


async def test_a_start_that_fails_for_another_reason_is_not_retried(tmp_path: Path, clock: ManualClock) -> None:
    (tmp_path / "netwerkbot.db").write_text("dit is geen database")
    bot = build(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'netwerkbot.db'}"), clock=clock)
    with pytest.raises(Exception, match="not a database"):
        await asyncio.wait_for(bot.start(), timeout=10)
    await bot.stop()


async def test_a_member_known_to_one_instance_is_never_older_than_the_database(
        database_url: str, clock: ManualClock) -> None:
    """Members are kept in memory between inputs; a change made through another instance shows at once."""
    async with started_bot(database_url, clock) as first, started_bot(database_url, clock) as second:
        assert "IB-er" not in text_of(await run(second, "/netwerkbot profiel"))  # second now knows U1
        assert "IB-er" in text_of(await run(first, "/netwerkbot profiel rol ib-er"))
        assert "IB-er" in text_of(await run(second, "/netwerkbot profiel"))
        await run(first, "/netwerkbot profiel rol consulent")
        shown = text_of(await run(second, "/netwerkbot profiel"))
        assert "consulent" in shown and "IB-er" not in shown


async def test_the_log_of_a_failed_press_names_the_button_but_not_what_was_chosen(
        sqlite_bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    """A press on a secret vote is secret: an error log says which button, from whom, never the value."""

    async def broken(ctx: HandlerContext, action: Action) -> Reply:
        raise RuntimeError("kapot")

    feature: Feature = Feature("test")
    feature.action("test.stem", broken)
    sqlite_bot.registry.add(feature)
    with caplog.at_level(logging.ERROR):
        await sqlite_bot.dispatcher.dispatch(Action("test.stem", "7:tegen", actor("U1")))
    [logged] = [r for r in caplog.records if "unexpected error" in r.getMessage()]
    assert "Action test.stem from console:U1" in logged.getMessage() and "tegen" not in logged.getMessage()
