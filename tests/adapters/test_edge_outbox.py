"""A crash after the platform took an outbox message but before the outbox recorded it sends it once.

The crash is the state it leaves: the row leased, not marked sent, while the platform has the
message. When the lease has run out the outbox tries again; Slack's sender finds its mark (the
outbox id in the message's metadata) and records that message, Matrix's homeserver answers the
repeated transaction id with the event it made the first time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from bot.core.clock import ManualClock
from bot.core.reply import Reply, reply_to_json
from bot.outbox import LEASE
from storage.models import OutboxMessage
from tests.adapters.test_slack_e2e import World, running
from tests.matrix_support import MatrixWorld, matrix_world
from tests.synapse import joined

CONSULTANTS = "C0CONSULT"
matrix = pytest.fixture(matrix_world, name="matrix_world")


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(sqlite_url, clock, channel_consultants=CONSULTANTS) as w:
        w.bot.outbox.sender = w.adapter
        yield w


async def crashed_after_sending(bot: object, clock: ManualClock) -> None:
    """Put every sent message back as a crash leaves it (leased, not recorded), and let the lease run out."""
    db = bot.db  # type: ignore[attr-defined]
    async with db.transaction() as repos:
        await repos.session.execute(update(OutboxMessage).values(sent_at=None, message_ref="",
                                                                 lease_until=clock.now() + LEASE))
    clock.advance(LEASE + timedelta(seconds=1))


async def refs(bot: object) -> list[str]:
    async with bot.db.transaction() as repos:  # type: ignore[attr-defined]
        rows = await repos.session.execute(OutboxMessage.__table__.select().order_by(OutboxMessage.id))
        return [str(r.message_ref) for r in rows if r.sent_at is not None]


async def test_slack_a_message_taken_before_a_crash_is_not_posted_again(world: World, clock: ManualClock) -> None:
    bot, fake = world.bot, world.fake
    async with bot.db.transaction() as repos:
        await repos.outbox.enqueue("consultants", reply_to_json(Reply.text("Herinnering: dinsdag overleg")),
                                   clock.now())
    assert await bot.outbox.flush() == 1
    [posted] = fake.ok_calls("chat.postMessage")
    assert posted.params["metadata"]["event_type"] == "netwerkbot_outbox"
    first = await refs(bot)

    await crashed_after_sending(bot, clock)
    assert await bot.outbox.flush() == 1  # recorded as sent …
    assert len(fake.ok_calls("chat.postMessage")) == 1  # … without a second post
    assert await refs(bot) == first  # the message Slack has
    [looked] = fake.ok_calls("conversations.history")
    assert looked.params["channel"] == CONSULTANTS


async def test_slack_a_message_not_taken_before_a_crash_is_posted_once(world: World, clock: ManualClock) -> None:
    bot, fake = world.bot, world.fake
    async with bot.db.transaction() as repos:
        await repos.outbox.enqueue("consultants", reply_to_json(Reply.text("Eerste")), clock.now())
    assert await bot.outbox.flush() == 1
    async with bot.db.transaction() as repos:  # leased when the bot died, before Slack got it
        await repos.outbox.enqueue("consultants", reply_to_json(Reply.text("Tweede")), clock.now())
        await repos.session.execute(update(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
                                    .values(lease_until=clock.now() + LEASE))
    clock.advance(LEASE + timedelta(seconds=1))
    assert await bot.outbox.flush() == 1
    assert [c.params["text"] for c in fake.ok_calls("chat.postMessage")] == ["Eerste", "Tweede"]


async def test_slack_a_direct_message_in_a_thread_is_looked_for_where_it_went(world: World,
                                                                              clock: ManualClock) -> None:
    bot, fake = world.bot, world.fake
    fake.add_message(CONSULTANTS, "1790000000.000001", "U0ANNA", "Wie helpt met de groeiklas?")
    async with bot.db.transaction() as repos:
        thread = Reply.text("Antwoord in de draad")
        await repos.outbox.enqueue("consultants", reply_to_json(Reply(thread.parts,
                                                                      thread=f"{CONSULTANTS}/1790000000.000001")),
                                   clock.now())
    assert await bot.outbox.flush() == 1
    await crashed_after_sending(bot, clock)
    assert await bot.outbox.flush() == 1
    assert len(fake.ok_calls("chat.postMessage")) == 1
    assert len(fake.ok_calls("conversations.replies")) == 1


async def test_matrix_a_message_taken_before_a_crash_is_not_sent_again(matrix_world: MatrixWorld,
                                                                       clock: ManualClock) -> None:
    anna = await matrix_world.person("anna")
    room = await anna.create_room(invite=(matrix_world.bot_id,))
    async with matrix_world.bot(matrix_room_consultants=room) as (bot, _):
        await joined(anna, room, matrix_world.bot_id)
        async with bot.db.transaction() as repos:
            await repos.outbox.enqueue("consultants", reply_to_json(Reply.text("Herinnering: overleg")), clock.now())
        assert await bot.outbox.flush() == 1
        first = await refs(bot)
        await crashed_after_sending(bot, clock)
        assert await bot.outbox.flush() == 1
        assert await refs(bot) == first  # the homeserver answered with the event it made the first time
        await anna.reply_from(matrix_world.bot_id, room, contains="Herinnering")
        assert [e for e in await anna.quiet(matrix_world.bot_id, room) if "Herinnering" in str(e)] == []
