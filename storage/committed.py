"""The committed search version, read beside the session: what tells a cached answer still holds.

`CommittedState` (SQLite) reads it on the event loop's own thread; `CommittedStatePostgres` in autocommit on
connections of its own, with what changed since the last read, sent ahead for a Slack slash command
(storage.ahead) and shared by whoever asks while one is under way. `Database` (storage/db.py) hands one of them
to each session (`PEEK`); storage.changes and storage.accounts read through it.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from storage import ahead
from storage.accounts import Query
from storage.changes import RecentChanges
from storage.repositories import StateSnapshot

REST_AFTER_FAILURE_SECONDS = 2.0  # after a failed read, the session reads for itself this long


class CommittedState:
    """SQLite: the committed search_state, read on the event loop's own thread.

    A repeated search needs nothing but this one row, by primary key, to know its cached answer
    still holds: some 20 µs for SQLite, against about 1.4 ms for the six hops to aiosqlite's thread
    that a statement and its transaction cost. In WAL mode a reader never waits for a writer;
    should it ever be told the database is busy, it does not wait either (busy_timeout 0) and the
    caller reads through its session as usual.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None

    def __call__(self) -> StateSnapshot | None:
        try:
            if self._connection is None:
                self._connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                self._connection.execute("PRAGMA busy_timeout=0")
            row = self._connection.execute("SELECT version, terms FROM search_state WHERE id = 1").fetchone()
        except sqlite3.Error:
            return None
        return (int(row[0]), int(row[1])) if row else None

    def rows(self, sql: str, *params: Any, version: int | None = None) -> list[tuple[Any, ...]] | None:
        """The committed rows of a read (placeholders `?`; storage.changes, storage.accounts), or None. (Nothing is
        read ahead on SQLite: `version` does not matter here.)"""
        try:
            if self._connection is None and self() is None:
                return None
            assert self._connection is not None
            return self._connection.execute(sql, params).fetchall()
        except sqlite3.Error:
            return None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@functools.lru_cache(maxsize=64)
def _numbered(sql: str, first: int = 1) -> str:
    """SQLite's placeholders (`?`) as PostgreSQL's (`$1`, `$2`, ... or from `$first` on)."""
    parts = sql.split("?")
    return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], first))


async def _as_it_is(_connection: asyncpg.Connection) -> None:
    """A connection that only ever read in autocommit goes back to the pool as it is: asyncpg's default
    reset (RESET ALL, UNLISTEN, …) would be one more round trip per read."""


# The reads beside the session are each planned once per connection, not at every execution: for a statement with
# parameters PostgreSQL makes a plan for the values at hand ("custom") as long as it guesses that one is cheaper than
# a plan for any values, which for these reads it always does; planning then cost more than the read (the version
# read 0.2 ms, a member read 0.6 ms; executing either 0.04 ms). Their plan for any values is the same index scans.
GENERIC_PLANS = {"plan_cache_mode": "force_generic_plan"}

# the version and what the versions after $1 changed, in one round trip and one snapshot (storage.changes)
_VERSION = ("SELECT s.version, s.terms, c.version, c.kind, c.ref{columns} FROM search_state s"
            " LEFT JOIN search_changes c ON c.version > $1 AND c.version <= s.version{joined}"
            " WHERE s.id = 1 ORDER BY c.version")
VERSION_AND_CHANGES = _VERSION.format(columns="", joined="")
# and the rows of a read beside the session (`q`, its first column never NULL), in the same round trip and snapshot:
# each of its rows beside each change (both are few), taken apart again in `_read`
VERSION_AND_CHANGES_WITH = _VERSION.format(columns=", q.*", joined=" LEFT JOIN ({0}) q ON TRUE")
VERSION_READ = "version"  # what the version read is kept under in a request (storage.ahead)
Read = tuple[StateSnapshot | None, list[tuple[Any, ...]] | None]  # a version read: the version, and rows read with it


def _pass_on(done: asyncio.Future[Read], waiting: asyncio.Future[Read]) -> None:
    """What `done` came to, to `waiting` as well."""
    if done.cancelled():
        waiting.cancel()
    elif (error := done.exception()) is not None:
        waiting.set_exception(error)
    else:
        waiting.set_result(done.result())


class CommittedStatePostgres:
    """PostgreSQL: the committed search_state, read in autocommit on connections of its own.

    Through the session a read costs BEGIN, SELECT and COMMIT (three round trips); here one, a
    statement asyncpg prepares once per connection (bench/version_read.py: p50 0.95 → 0.12 ms).
    One connection is kept for these reads while it is free: taking one from the pool and giving it
    back cost half as much again as the read (p50 0.33 against 0.21 ms with caches as cold as between
    requests); reads that overlap take one from the pool. Like `CommittedState`, it is used only
    before the session has read anything, so whatever the session reads afterwards is no older than
    this version. Any failure: None, and the caller reads through its session as usual.

    Who asks while a version read is under way shares the next one, sent when that one is answered
    (`_shared`): never one sent before they asked, and under 50 searches at once a few reads, not 50.
    """

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.recent = RecentChanges()  # what the latest versions changed, read with them
        self._pool: asyncpg.Pool | None = None
        self._kept: asyncpg.Connection | None = None  # free when not `_busy`
        self._busy = False
        self._opening = asyncio.Lock()  # 50 first reads at once open one pool, not 50 (each with its connections)
        self._failed_at = 0.0
        self._sent: asyncio.Future[Read] | None = None  # the version read under way (`_shared`)
        self._next: asyncio.Future[Read] | None = None  # the one sent when it is answered, for who asked meanwhile

    def read_ahead(self, rows: Query | None = None) -> None:
        """Send the version read now, for this request's first (storage.ahead); not before the first read opened
        the pool. In the same statement `rows`: a read beside the session that the request will make (a
        newcomer's member), for `rows` below. (On a connection of its own beside the version read it came 0.4 ms
        after it, p50, in bench/ack_latency.py; in one statement it costs 0.03 ms more than the version alone,
        bench/README.md.) While the kept connection is busy, only the version read, shared (`_shared`)."""
        if self._pool is not None and self._kept is not None:
            if rows is None or self._busy:
                ahead.keep({VERSION_READ: self._shared()})
            else:
                read = ahead.eagerly(self._read(rows))
                ahead.keep({VERSION_READ: read, rows: read})

    async def __call__(self) -> StateSnapshot | None:
        early = ahead.take(VERSION_READ)
        read: asyncio.Future[Read] = self._shared() if early is None else early
        snapshot, _ = await read
        return snapshot

    def _shared(self) -> asyncio.Future[Read]:
        """A version read sent no earlier than now: sent now when none is under way, else the one sent as soon as
        that one is answered, shared by everyone who asks meanwhile (each waits behind a shield of their own: one
        who stops waiting cancels it for nobody else)."""
        if self._sent is None:
            # sent here and now on the kept connection when it is free; else in a task of its own (a first step run
            # here that opened a pool connection would put its timeout on the caller's task, not the read's)
            free = self._pool is not None and self._kept is not None and not self._busy
            return self._send(ahead.eagerly(self._read()) if free else asyncio.ensure_future(self._read()))
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        return asyncio.shield(self._next)

    def _send(self, read: asyncio.Future[Read]) -> asyncio.Future[Read]:
        self._sent = read
        read.add_done_callback(self._answered)
        return read

    def _answered(self, _: asyncio.Future[Read]) -> None:
        """The read under way is answered: who asked meanwhile has theirs sent now, in a task (in this callback no
        task runs, and a pool connection opened here would find none for its timeout)."""
        self._sent, waiting, self._next = None, self._next, None
        if waiting is not None:
            self._send(asyncio.ensure_future(self._read())).add_done_callback(lambda sent: _pass_on(sent, waiting))

    async def _read(self, rows: Query | None = None) -> Read:
        """The version (and what changed since the last read), and with it the rows of `rows` if given."""
        try:
            if self._pool is None:
                if time.monotonic() - self._failed_at < REST_AFTER_FAILURE_SECONDS:
                    return None, None  # it just failed: the session, until it had a rest
                if not await self._open():
                    return None, None
            after = self.recent.after()
            read = await (self._fetch(VERSION_AND_CHANGES, after) if rows is None else
                          self._fetch(VERSION_AND_CHANGES_WITH.format(_numbered(rows[0], 2)), after, *rows[1]))
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            self._failed_at = time.monotonic()
            await self.close()
            return None, None
        if not read:
            return None, None
        self.recent.heard(after, int(read[0][0]), dict.fromkeys(tuple(row[2:5]) for row in read))
        found = None if rows is None else list(dict.fromkeys(tuple(row[5:]) for row in read if row[5] is not None))
        return (int(read[0][0]), int(read[0][1])), found

    async def _open(self) -> bool:
        """Whether the pool is open (by this call or another it waited for; not when that one just failed)."""
        async with self._opening:
            if self._pool is not None or time.monotonic() - self._failed_at < REST_AFTER_FAILURE_SECONDS:
                return self._pool is not None
            pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=20, timeout=5, command_timeout=5,
                                             reset=_as_it_is, server_settings=GENERIC_PLANS)
            try:
                self._kept = await asyncpg.connect(self.dsn, timeout=5, command_timeout=5,
                                                   server_settings=GENERIC_PLANS)
            except BaseException:
                pool.terminate()
                raise
            self._pool = pool
            return True

    async def rows(self, sql: str, *params: Any, version: int | None = None) -> list[tuple[Any, ...]] | None:
        """As `CommittedState.rows` (placeholders `?`), once the version has been read this way, or None. What was
        read ahead in this request is used only when it was read at `version`, the transaction's: read at another,
        it could be older than what the transaction keeps under its version."""
        if (early := ahead.take((sql, params))) is not None:
            snapshot, found = await early
            if found is not None and snapshot is not None and snapshot[0] == version:
                return found  # type: ignore[no-any-return]
        if self._pool is None:
            return None
        try:
            return [tuple(row) for row in await self._fetch(_numbered(sql), *params)]
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return None

    async def _fetch(self, sql: str, *params: Any) -> list[asyncpg.Record]:
        """On the kept connection when it is free, else on one of the pool's."""
        kept = self._kept
        if kept is None or self._busy:
            assert self._pool is not None
            return await self._pool.fetch(sql, *params)  # type: ignore[no-any-return]
        self._busy = True
        try:
            return await kept.fetch(sql, *params)  # type: ignore[no-any-return]
        except BaseException:  # failed or cancelled halfway: not trusted again (the pool serves from now on)
            self._kept = None
            kept.terminate()
            raise
        finally:
            self._busy = False

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        kept, self._kept = self._kept, None
        if kept is not None:
            kept.terminate()
        if pool is not None:
            pool.terminate()
