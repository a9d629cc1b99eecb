"""Matrix: the outbox's way out. What the bot says by itself goes to a role's room or a member's direct room;
a vote becomes a native poll (open) or `!stem` choices (secret); an update is an `m.replace` edit.

A part of `MatrixAdapter` (bot/adapters/matrix/adapter.py), in a module of its own to keep both short.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.adapters.matrix.render import (
    POLL_END,
    POLL_START,
    ballot_of,
    edit,
    poll_end,
    poll_start,
    render,
    without_ballot,
)
from bot.adapters.matrix.transactions import outbox_send_begins
from bot.core.port import DeliveryRefused
from bot.core.reply import Ballot, Context, Heading, Reply, Text

if TYPE_CHECKING:
    from bot.adapters.matrix.adapter import MatrixAdapter

PLATFORM = "matrix"
PREFIX = "!"


# -- the outbox's way out (bot/outbox.py) ----------------------------------------------------------


async def room_for(adapter: MatrixAdapter, channel: str) -> str:
    if channel.startswith("member:"):
        user = await adapter.member_account(channel, "matrix.member_not_on_matrix")
        return await adapter.direct_room(user, adapter.outbox_client)
    room = adapter.port.settings.channel(channel, PLATFORM)
    if not room:
        raise DeliveryRefused(adapter.t("matrix.room_not_set", role=channel))
    return room


async def send(adapter: MatrixAdapter, channel: str, reply: Reply) -> str:
    """Post what the bot says by itself; a vote becomes a poll (open) or `!stem` choices (secret)."""
    outbox_send_begins()  # edge (issue 14): its events' transaction ids come from the outbox message
    room = await room_for(adapter, channel)
    ballot = ballot_of(reply)
    if ballot is None:  # a thread is a message's event id, or the ref this method gave ("room|event")
        event = await adapter.post(room, reply, thread=reply.thread.rpartition("|")[2], client=adapter.outbox_client)
        return f"{room}|{event}"
    options = ballot.poll or ballot.buttons  # a ballot of several choices: its poll's answers
    buttons = [(b.action_id, b.value, b.label) for b in options]
    code = await adapter.state.add_poll(room, ballot.ballot is Ballot.SECRET, buttons)
    if ballot.ballot is Ballot.SECRET:
        event = await adapter.post(room, secret_text(adapter, reply, code), thread=reply.thread,
                                   client=adapter.outbox_client)
        text_event = event
    else:
        text_event = await adapter.post(room, without_ballot(reply, (Context(adapter.t("matrix.poll_below")),)),
                                     thread=reply.thread, client=adapter.outbox_client)
        question = next((p.text for p in reply.parts if isinstance(p, Heading)), reply.plain())
        event = await adapter.send_event(adapter.outbox_client, room, POLL_START,
                                      poll_start(question, [b.label for b in options], ballot.max_selections))
    await adapter.state.poll_posted(code, event, text_event)
    return f"{room}|{event}"


def secret_text(adapter: MatrixAdapter, reply: Reply, code: int) -> Reply:
    ballot = ballot_of(reply)
    if ballot is None:
        return reply
    lines = "\n".join(f"{PREFIX}stem {code} {i}   {b.label}" for i, b in enumerate(ballot.buttons, 1))
    return without_ballot(reply, (Text(adapter.t("matrix.secret_vote", bot=adapter.user_id)), Text(lines)))


async def update(adapter: MatrixAdapter, channel: str, ref: str, reply: Reply) -> None:
    """Replace a sent message by an `m.replace` edit; a poll's tally is in the message above it, and a vote
    that closed ends its poll (`m.poll.end` with the result)."""
    room, _, event = ref.partition("|")
    poll = await adapter.state.poll_by_event(event)
    if poll is None:
        await adapter.send_event(adapter.outbox_client, room, "m.room.message",
                              edit(render(reply, adapter.t, PREFIX), event))
        return
    still_open = ballot_of(reply) is not None
    shown = secret_text(adapter, reply, poll.id) if poll.secret and still_open else without_ballot(reply)
    await adapter.send_event(adapter.outbox_client, room, "m.room.message",
                          edit(render(shown, adapter.t, PREFIX), poll.text_event_id))
    if not still_open and not poll.secret and poll.ended_at is None:
        await adapter.send_event(adapter.outbox_client, room, POLL_END, poll_end(event, render(reply, adapter.t).body))
        await adapter.state.end_poll(poll.id)
