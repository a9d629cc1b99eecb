"""Acknowledged means durable (edge, issue 14): presses, and commands or forms still being handled when
the ack budget ran out, are written to the inbox (bot/inbox.py, through the port) before Slack gets its
ack, and handled after it; what a crash left there is handled at the next start."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import TYPE_CHECKING

from bot.adapters.slack.events import PLATFORM, Origin
from bot.adapters.slack.guard import request_key
from bot.core.port import Inbox, Kept
from bot.core.reply import Outcome

if TYPE_CHECKING:
    from bot.core.inputs import Actor
    from bot.core.port import Port

log = logging.getLogger(__name__)


class KeptInputs:
    """The Slack adapter's inbox half: mixed into `SlackAdapter`, which gives `port`, `inbox`,
    `follow_up` and `name_first`."""

    port: Port
    inbox: Inbox

    if TYPE_CHECKING:
        async def follow_up(self, outcome: asyncio.Task[Outcome] | None, origin: Origin) -> None: ...

        async def name_first(self, actor: Actor) -> None: ...

    async def keep(self, inputs: list[Kept], origin: Origin) -> int | None:
        """The inputs written to the inbox (None when the database cannot take them: then no ack)."""
        try:
            return await self.inbox.keep(PLATFORM, request_key(), inputs, {"origin": dataclasses.asdict(origin)})
        except Exception as error:
            log.warning("could not keep %d input(s) in the inbox, not acknowledged: %s", len(inputs), error)
            return None

    async def keep_late(self, inp: Kept, origin: Origin) -> int | None:
        """A command or form still being handled when the ack budget ran out: kept before the ack, with the
        delivery id its handling claims, so whichever commits first (it or, after a crash, the leftover) counts."""
        return await self.keep([inp], origin)

    async def finish_late(self, work: asyncio.Task[Outcome], entry: int, origin: Origin) -> None:
        await self.follow_up(work, origin)
        await self.inbox.done(entry)

    async def dispatch_kept(self, inp: Kept) -> Outcome:
        """A kept input, once its actor has their platform name (as `AdapterBase.dispatch` does)."""
        await self.name_first(inp.actor)
        return await self.port.dispatch_kept(inp)

    async def handle_kept(self, entry: int, inputs: list[Kept], origin: Origin) -> None:
        """Handle the inputs of one inbox row in order, deliver their outcomes, then forget the row.

        A few rows at a time (`inbox.lane`), so a burst waits in the inbox rather than in a pile of
        transactions that lock each other out; a database that is away is waited for (the row stays
        for the next start when it does not come back)."""
        for number, inp in enumerate(inputs):
            keyed = inp if inp.delivery_id else dataclasses.replace(inp, delivery_id=f"inbox:{entry}:{number}")
            async with self.inbox.lane():
                work = asyncio.create_task(self.inbox.patiently(self.dispatch_kept, keyed))
                await asyncio.wait({work})
            if work.exception() is not None:
                log.warning("inbox entry %s left for the next start: %s", entry, work.exception())
                return
            await self.follow_up(work, origin)
        await self.inbox.done(entry)

    async def handle_leftovers(self) -> None:
        """On start: what was acknowledged before a crash (or by an instance that stopped) and not handled."""
        leftovers = await self.inbox.waiting(PLATFORM)
        if leftovers:
            log.info("handling %d input(s) acknowledged before the last stop", len(leftovers))
        for left in leftovers:
            await self.handle_kept(left.entry, left.inputs, Origin.from_json(left.extra["origin"]))
