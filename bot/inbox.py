"""The inbox: inputs written down before they are acknowledged, handled after, leftovers on start.

Acknowledged means durable. A button press is acknowledged at once (Slack gives 3 s, and in a
burst of votes handling each before its ack would make the acks wait in line), so it is first
kept here: one row per request, written in *groups* — while one transaction commits, the presses
arriving meanwhile wait for the next, which writes all of them with one commit (group commit).
Only then the ack goes out; the press is handled after it, and its row deleted (rows may hold
what someone typed, so none is kept longer than needed). Handling is grouped the same way (`handle`):
the rows that arrive while one group is handled are the next group, handled in one transaction
(issue 19: a burst of 2,000 presses costs some twenty commits on PostgreSQL, a few hundred on SQLite, where
short groups let the acks through to its one writer, not 2,000). What a crash left behind
is handled when the adapter starts again (`waiting`).

Exactly once: an input handled from here carries a delivery id (its key) that the dispatcher
claims in the same transaction as its effect, so a row handled just before a crash, before its
deletion was written, is skipped the second time; the same holds when two instances both pick
up a leftover.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from bot.core.clock import Clock
from bot.core.inputs import Action, Actor, Command, FormSubmission
from bot.core.port import Kept as Kept  # what an adapter keeps: one definition, in the port
from bot.core.reply import Outcome
from storage import inbox as rows
from storage.db import Database, is_conflict, is_unavailable

log = logging.getLogger(__name__)

LANES = 4  # inbox rows handled at the same time
GROUP = 25  # inputs in one transaction at most on SQLite, where a row being kept (its ack) waits for one group
GROUP_POSTGRES = 100  # on PostgreSQL the inbox's writes do not wait for a group: larger groups, fewer commits
GROUP_ACKING = 10  # on SQLite while acks are being given (a row kept less than ACKING seconds ago): shorter groups
ACKING = 1.0

T = TypeVar("T")
R = TypeVar("R")
Together = Callable[[list[Kept]], Awaitable[list[Outcome]]]  # inputs handled in one transaction, in order
Prepare = Callable[[list[Kept]], Awaitable[None]]

KINDS: dict[str, type[Kept]] = {"Action": Action, "Command": Command, "FormSubmission": FormSubmission}


def encode(inp: Kept) -> dict[str, Any]:
    data = dataclasses.asdict(inp) | {"kind": type(inp).__name__}
    if isinstance(inp, Action) and inp.pressed_at is not None:
        data["pressed_at"] = inp.pressed_at.isoformat()
    if isinstance(inp, FormSubmission):
        data["values"] = dict(inp.values)
    return data


def decode(data: Mapping[str, Any]) -> Kept:
    fields = dict(data)
    kind = KINDS[str(fields.pop("kind"))]
    fields["actor"] = Actor(**fields["actor"])
    if fields.get("pressed_at"):
        fields["pressed_at"] = datetime.fromisoformat(fields["pressed_at"])
    return kind(**fields)


class Leftover(NamedTuple):
    """An input acknowledged but not (known to be) handled: its row, the inputs, the adapter's own notes."""

    entry: int
    inputs: list[Kept]
    extra: dict[str, Any]


class _Handed(NamedTuple):
    inputs: list[Kept]
    together: Together
    prepare: Prepare | None
    waiter: asyncio.Future[list[Outcome]]


class Inbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._keep: list[tuple[str, str, str, asyncio.Future[int]]] = []  # platform, key, body, waiter
        self._done: list[tuple[int, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._handle: deque[_Handed] = deque()  # rows waiting to be handled, in the order they came
        self._handler: asyncio.Task[None] | None = None
        # SQLite: the inbox's writes and the handling take turns with the process's other writers (storage.db
        # `write_turn`), and the acks wait for at most one group's handling, not for SQLite's back-off
        self._lanes = asyncio.Semaphore(1 if db.dialect == "sqlite" else LANES)  # inputs handled side by side
        self._turn = db.write_turn
        self._group = GROUP_POSTGRES if db.dialect == "postgresql" else GROUP
        # SQLite: a group holds the one writer that the next ack's row waits for; while presses are acknowledged
        # a group is short (GROUP_ACKING), so an ack waits for ten presses' handling, not 25 (issue 19: ack p99)
        self._group_acking = GROUP_ACKING if self._turn is not None else self._group
        self._kept_at = -ACKING  # time.monotonic() of the last row kept

    @contextlib.asynccontextmanager
    async def lane(self) -> AsyncIterator[None]:
        """Held while one kept input is handled."""
        async with self._lanes, self._turn or contextlib.nullcontext():
            yield

    async def patiently(self, dispatch: Callable[[T], Awaitable[R]], inp: T) -> R:
        """`dispatch(inp)`, which raises while the database is unreachable (or when its transaction lost a deadlock
        to another): tried again for up to a minute, then the error stands and the row stays for the next start."""
        async for attempt in AsyncRetrying(retry=retry_if_exception(lambda e: is_unavailable(e) or is_conflict(e)),
                                           reraise=True,
                                           wait=wait_exponential(multiplier=0.2, max=5), stop=stop_after_delay(60)):
            with attempt:
                return await dispatch(inp)
        raise AssertionError("unreachable")  # pragma: no cover

    async def handle(self, inputs: list[Kept], together: Together, prepare: Prepare | None = None) -> list[Outcome]:
        """Handle one row's inputs, in order, together with the rows handed in meanwhile (group commit).

        While one group is handled, the rows arriving meanwhile wait and then go in the next group
        (at most `GROUP` inputs; `GROUP_POSTGRES` on PostgreSQL; on SQLite `GROUP_ACKING` while rows are being
        kept, whose acks wait for SQLite's one writer): `together` handles them all in one
        transaction, so under a burst the cost of a commit is shared by every press of the group. Rows
        are grouped in the order they came, so one member's presses keep their order. Raises what made
        the group fail (the database away for longer than `patiently` waits): then the row stays for the
        next start. `prepare` runs for the group before its turn (e.g. profiles fetched), so rows being
        kept need not wait for it."""
        waiter: asyncio.Future[list[Outcome]] = asyncio.get_running_loop().create_future()
        self._handle.append(_Handed(inputs, together, prepare, waiter))
        if self._handler is None or self._handler.done():
            self._handler = asyncio.create_task(self._handle_groups(), name="inbox handler")
        return await waiter

    async def _handle_groups(self) -> None:
        while self._handle:
            first, size = self._handle[0], 0
            group: list[_Handed] = []
            most = self._group_acking if time.monotonic() - self._kept_at < ACKING else self._group
            while self._handle and self._handle[0][1:3] == first[1:3] and \
                    (not group or size + len(self._handle[0].inputs) <= most):
                group.append(self._handle.popleft())
                size += len(group[-1].inputs)
            inputs = [inp for handed in group for inp in handed.inputs]
            try:
                if first.prepare is not None:
                    await first.prepare(inputs)
                async with self.lane():
                    outcomes = await self.patiently(first.together, inputs)
            except Exception as error:
                for handed in group:
                    if not handed.waiter.done():
                        handed.waiter.set_exception(error)
                continue
            for handed in group:
                answers, outcomes = outcomes[:len(handed.inputs)], outcomes[len(handed.inputs):]
                if not handed.waiter.done():
                    handed.waiter.set_result(answers)

    async def keep(self, platform: str, key: str, inputs: list[Kept], extra: Mapping[str, Any]) -> int:
        """Write the inputs of one request down; returns their row once committed (then it may be acked).
        Each input's delivery id must be set and unique (the dispatcher claims it when handling it)."""
        self._kept_at = time.monotonic()
        body = json.dumps({"inputs": [encode(i) for i in inputs], "extra": dict(extra)})
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._keep.append((platform, key, body, waiter))
        self._wake()
        return await waiter

    async def done(self, entry: int) -> None:
        """The row's inputs are handled: forget it (grouped with other writes)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._done.append((entry, waiter))
        self._wake()
        await waiter

    async def waiting(self, platform: str) -> list[Leftover]:
        """What `platform` acknowledged and did not finish, oldest first."""
        async with self.db.transaction() as repos:
            kept = await rows.waiting(repos.session, platform)
        found = []
        for entry in kept:
            try:
                body = json.loads(entry.body)
                found.append(Leftover(entry.id, [decode(i) for i in body["inputs"]], dict(body.get("extra") or {})))
            except (ValueError, KeyError, TypeError) as error:  # written by another version of the bot
                log.error("inbox entry %s cannot be read (%s); left in place", entry.id, type(error).__name__)
        return found

    def _wake(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="inbox writer")

    async def _write(self) -> None:
        """Write everything waiting in one transaction; what arrived meanwhile goes in the next."""
        while self._keep or self._done:
            keep, self._keep = self._keep, []
            done, self._done = self._done, []
            try:
                async with self._turn.first() if self._turn else contextlib.nullcontext(), \
                        self.db.transaction() as repos:
                    ids = await rows.add(repos.session, [(p, k, b) for p, k, b, _ in keep], self.clock.now())
                    await rows.remove(repos.session, [entry for entry, _ in done])
            except Exception as error:
                for waiter in [w for *_, w in keep] + [w for _, w in done]:
                    if not waiter.done():
                        waiter.set_exception(error)
                continue
            for (*_, waiter), entry in zip(keep, ids, strict=True):
                if not waiter.done():
                    waiter.set_result(entry)
            for _, finished in done:
                if not finished.done():
                    finished.set_result(None)

