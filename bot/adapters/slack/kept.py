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
    from collections.abc import Iterable

    from bot.core.inputs import Actor
    from bot.core.port import Port

log = logging.getLogger(__name__)


class KeptInputs:
    """The Slack adapter's inbox half: mixed into `SlackAdapter`, which gives `port`, `inbox`,
    `follow_up` and `name_first`."""

    port: Port
    inbox: Inbox

    if TYPE_CHECKING:
        async def follow_up(self, outcome: asyncio.Future[Outcome] | None, origin: Origin) -> None: ...

        async def name_all_first(self, actors: Iterable[Actor]) -> None: ...

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
        """The row is forgotten before the answer goes out: a crash between them loses the answer rather
        than giving it twice (a command that wrote nothing has no claim a leftover would find taken)."""
        await asyncio.wait({work})
        try:
            await self.inbox.done(entry)
        except Exception as error:
            log.warning("inbox entry %s left for the next start: %s", entry, error)
        await self.follow_up(work, origin)

    async def name_actors(self, inputs: list[Kept]) -> None:
        """Before a group is handled: its actors have their platform names (as `AdapterBase.dispatch` does,
        for all of them at once)."""
        await self.name_all_first(inp.actor for inp in inputs)

    async def handle_kept(self, entry: int, inputs: list[Kept], origin: Origin) -> None:
        """Handle the inputs of one inbox row in order, deliver their outcomes, then forget the row.

        Handled together with the rows that arrived meanwhile (`inbox.handle`: one transaction for a
        group), so a burst of presses costs a commit per group rather than per press; a database that is
        away is waited for (the row stays for the next start when it does not come back)."""
        keyed = [inp if inp.delivery_id else dataclasses.replace(inp, delivery_id=f"inbox:{entry}:{number}")
                 for number, inp in enumerate(inputs)]
        try:
            outcomes = await self.inbox.handle(keyed, self.port.dispatch_kept_together, self.name_actors)
        except Exception as error:
            log.warning("inbox entry %s left for the next start: %s", entry, error)
            return
        for outcome in outcomes:  # in order: the answer to a member's last press comes last
            handled: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
            handled.set_result(outcome)
            await self.follow_up(handled, origin)
        await self.inbox.done(entry)

    async def handle_leftovers(self) -> None:
        """On start: what was acknowledged before a crash (or by an instance that stopped) and not handled."""
        leftovers = await self.inbox.waiting(PLATFORM)
        if leftovers:
            log.info("handling %d input(s) acknowledged before the last stop", len(leftovers))
        await asyncio.gather(*(self.handle_kept(left.entry, left.inputs, Origin.from_json(left.extra["origin"]))
                               for left in leftovers))  # handed in oldest first: grouped in that order
