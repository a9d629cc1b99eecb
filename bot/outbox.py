"""The outbox: messages the bot sends by itself (reminders, digests, results), delivered until taken.

A message is a row first, written in the same transaction as what caused it; delivering it is a
separate step that may fail and is retried with backoff: Slack's 429 after its `Retry-After`,
server errors and refused connections after 2, 4, 8 … seconds (at most ten minutes). Only the
oldest unsent message of a destination is ever sent, so a channel's messages arrive in order, also
when some were queued by role ("proposals") and others by that channel's id; a lease keeps a second
instance from sending the same one meanwhile. A message that fails for a reason the platform did not
give (a bug, a payload the renderer chokes on) is tried `MAX_UNEXPECTED` times, then marked failed
with that reason — listed for coordinators by `/overleg gemist` — so that it never blocks the
messages queued behind it.

A crash after the platform took a message but before the row says so leaves the row leased; when
the lease has run out (two minutes later) it is tried again, and a sender must not post it twice.
While a sender posts, `sending()` tells it which outbox message that is and whether an earlier try
may have been taken: Matrix derives the send's transaction id from it (the homeserver drops a
repeated one), Slack marks each message with it (message metadata) and looks for that mark before
posting again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from bot.core.clock import Clock
from bot.core.port import DeliveryDelayed as DeliveryDelayed  # defined in the port, named here too
from bot.core.port import DeliveryRefused as DeliveryRefused
from bot.core.port import Sender as Sender
from bot.core.port import Sending as Sending  # the port tells a sender which message it posts
from bot.core.port import _sending
from bot.core.port import sending as sending
from bot.core.reply import reply_from_json
from storage.db import Database, is_unavailable
from storage.records import OutboxRecord

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_BACKOFF_SECONDS = 600.0
MAX_UNEXPECTED = 5  # tries of a message that fails for an unexpected reason (2 + 4 + 8 + 16 s apart)


async def account_of(db: Database, channel: str, platform: str) -> str | None:
    """For the outbox channel `member:<id>` (a direct message): that member's user id on `platform`,
    None when they have no account there. Senders refuse such a message for good."""
    async with db.transaction() as repos:
        member = await repos.members.get(int(channel.removeprefix("member:")))
    return next((uid for p, uid in member.identities if p == platform), None) if member else None


def backoff(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed try: 2, 4, 8, … up to ten minutes."""
    return min(2.0 ** max(attempts, 1), MAX_BACKOFF_SECONDS)


@dataclass(frozen=True)
class Outcome:
    """What became of one message this round: sent, refused for good, or to be tried at `retry_at`."""

    message_id: int
    sent: bool = False
    refused: bool = False
    ref: str = ""
    error: str = ""
    retry_at: datetime | None = None


def waiting_until(message: OutboxRecord) -> datetime:
    return max(message.next_attempt_at, message.lease_until or message.next_attempt_at)


class Outbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.sender: Sender | None = None  # set by the adapter that runs
        self.next_attempt: datetime | None = None  # when a waiting message may be tried (after a flush)
        self._unexpected: dict[int, int] = {}  # unexpected failures in a row per message, in this process
        # where a channel key really goes (a role as its channel id), so that order holds per destination;
        # set by Bot.connect for the running platform, read at every flush so a changed setting counts at once
        self.destination: Callable[[str], str] = str

    async def flush(self) -> int:
        """Send what may be sent now, channel by channel in order; returns how many the platform took.

        Each round leases the head of every channel that is ready in one transaction, sends them
        side by side, and records the outcomes in one transaction. Afterwards `next_attempt` says
        when a message waits to be tried again.
        """
        if self.sender is None:
            return 0
        taken = 0
        while True:
            now = self.clock.now()
            async with self.db.transaction() as repos:
                heads = await repos.outbox.heads(destination=self.destination)
                ready = [head for head in heads if waiting_until(head) <= now]
                leased = [head for head in ready if await repos.outbox.lease(head.id, now, now + LEASE)]
            self.next_attempt = min((waiting_until(h) for h in heads if h not in ready), default=None)
            if not leased:
                return taken
            outcomes = await asyncio.gather(*(self._send(self.sender, head) for head in leased))
            await self._record(outcomes)
            taken += sum(1 for o in outcomes if o.sent)
            if not any(o.sent or o.refused for o in outcomes):
                self.next_attempt = min([*(o.retry_at for o in outcomes if o.retry_at), *(
                    [self.next_attempt] if self.next_attempt else [])], default=None)
                return taken

    async def _send(self, sender: Sender, message: OutboxRecord) -> Outcome:
        # edge (issue 14): each send runs in its own task (gather), so this is seen by this send only
        _sending.set(Sending(message.id, resend=message.lease_until is not None, since=message.created_at))
        try:
            ref = await sender.send(message.channel, reply_from_json(message.body))
        except DeliveryRefused as refused:
            log.error("outbox message %s to %s refused for good: %s", message.id, message.channel, refused)
            return Outcome(message.id, refused=True, error=str(refused))
        except DeliveryDelayed as delayed:
            wait = delayed.retry_after or backoff(message.attempts + 1)
            log.warning("outbox message %s to %s: %s; next try in %.0f s", message.id, message.channel, delayed, wait)
            return Outcome(message.id, error=str(delayed), retry_at=self.clock.now() + timedelta(seconds=wait))
        except Exception as error:
            failures = self._unexpected[message.id] = self._unexpected.get(message.id, 0) + 1
            reason = f"{type(error).__name__}: {error}"
            if failures >= MAX_UNEXPECTED:
                log.exception("outbox message %s to %s failed %d times; marked failed, its channel moves on",
                              message.id, message.channel, failures)
                del self._unexpected[message.id]
                return Outcome(message.id, refused=True, error=reason)
            wait = backoff(failures)
            log.exception("outbox message %s to %s failed unexpectedly (%d of %d); next try in %.0f s",
                          message.id, message.channel, failures, MAX_UNEXPECTED, wait)
            return Outcome(message.id, error=reason, retry_at=self.clock.now() + timedelta(seconds=wait))
        self._unexpected.pop(message.id, None)
        return Outcome(message.id, sent=True, ref=ref)

    async def _record(self, outcomes: list[Outcome]) -> None:
        """What the platform did with each message. Once it has taken one, writing that down is worth
        waiting for a database that hiccups."""
        async for attempt in AsyncRetrying(retry=retry_if_exception(is_unavailable), reraise=True,
                                           wait=wait_exponential(multiplier=0.2, max=5), stop=stop_after_delay(60)):
            with attempt:
                now = self.clock.now()
                async with self.db.transaction() as repos:
                    for o in outcomes:
                        if o.sent:
                            await repos.outbox.sent(o.message_id, now, o.ref)
                        elif o.refused:
                            await repos.outbox.fail(o.message_id, now, o.error)
                        elif o.retry_at is not None:
                            await repos.outbox.delay(o.message_id, o.retry_at, o.error)
