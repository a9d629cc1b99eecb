"""Transaction ids that make the outbox's Matrix sends idempotent (edge, issue 14).

A homeserver answers a `PUT /rooms/{room}/send/{type}/{txnId}` it has seen before from the same
device with the event it made the first time, without a second event. The client library draws
a fresh id per send; for an outbox message the id is derived from the message instead (its id,
when it was queued, and the number of the event within that send: a vote posts its text and its
poll), so the try after a crash that came between the homeserver taking it and the outbox
recording it makes no second message. Sessions are kept in the database, so the device is the
same after a restart. In an encrypted room the retry is encrypted anew (another Megolm message index),
but the homeserver goes by the transaction id and the device alone: it gives back the first event.
"""

from __future__ import annotations

from contextvars import ContextVar

from bot.core.port import sending

_events: ContextVar[list[int] | None] = ContextVar("matrix_outbox_events", default=None)


def outbox_send_begins() -> None:
    """Called when `send` starts posting an outbox message: its events are numbered from here."""
    _events.set([0])


def transaction_id() -> str | None:
    """The next event's transaction id within the outbox message being sent; None outside the outbox."""
    outbox, numbered = sending(), _events.get()
    if outbox is None or numbered is None:
        return None
    numbered[0] += 1
    return f"netwerkbot.outbox.{outbox.message_id}.{int(outbox.since.timestamp())}.{numbered[0]}"
