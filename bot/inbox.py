"""The inbox: inputs written down before they are acknowledged, handled after, leftovers on start.

Acknowledged means durable. A button press is acknowledged at once (Slack gives 3 s, and in a
burst of votes handling each before its ack would make the acks wait in line), so it is first
kept here: one row per request, written in *groups* — while one transaction commits, the presses
arriving meanwhile wait for the next, which writes all of them with one commit (group commit).
Only then the ack goes out; the press is handled after it, and its row deleted (rows may hold
what someone typed, so none is kept longer than needed). What a crash left behind is handled
when the adapter starts again (`waiting`).

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
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from bot.core.clock import Clock
from bot.core.inputs import Action, Actor, Command, FormSubmission
from bot.core.port import Kept as Kept  # what an adapter keeps: one definition, in the port
from bot.core.reply import Outcome
from storage import inbox as rows
from storage.db import Database, is_unavailable

log = logging.getLogger(__name__)

LANES = 4  # inbox rows handled at the same time

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


class Inbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._keep: list[tuple[str, str, str, asyncio.Future[int]]] = []  # platform, key, body, waiter
        self._done: list[tuple[int, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        # SQLite has one writer at a time, and a connection that finds it busy sleeps before it looks
        # again: so here the inbox's writes and the handling take turns in this process (a lock is fair,
        # in order), and the acks wait for at most one handling, not for SQLite's back-off
        sqlite = db.dialect == "sqlite"
        self._lanes = asyncio.Semaphore(1 if sqlite else LANES)  # inputs handled side by side
        self._turn = asyncio.Lock() if sqlite else None

    @contextlib.asynccontextmanager
    async def lane(self) -> AsyncIterator[None]:
        """Held while one kept input is handled."""
        async with self._lanes, self._turn or contextlib.nullcontext():
            yield

    async def patiently(self, dispatch: Callable[[Kept], Awaitable[Outcome]], inp: Kept) -> Outcome:
        """`dispatch(inp)`, which raises while the database is unreachable: tried again for up to a minute,
        then the error stands and the row stays for the next start."""
        async for attempt in AsyncRetrying(retry=retry_if_exception(is_unavailable), reraise=True,
                                           wait=wait_exponential(multiplier=0.2, max=5), stop=stop_after_delay(60)):
            with attempt:
                return await dispatch(inp)
        raise AssertionError("unreachable")  # pragma: no cover

    async def keep(self, platform: str, key: str, inputs: list[Kept], extra: Mapping[str, Any]) -> int:
        """Write the inputs of one request down; returns their row once committed (then it may be acked).
        Each input's delivery id must be set and unique (the dispatcher claims it when handling it)."""
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
                async with self._turn or contextlib.nullcontext(), self.db.transaction() as repos:
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

