"""The async engine, one transaction per input, and schema upgrades through Alembic."""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import ORMExecuteState, Session

from storage import ahead
from storage.accounts import Query, member_query
from storage.changes import RecentChanges, publish_changes
from storage.repositories import BEGUN, PEEK, Repositories, StateSnapshot
from storage.scheduling import Happened
from storage.session import LazySession, is_set_up

AfterCommit = Callable[[Happened], None]

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PING_AFTER_IDLE_SECONDS = 2.0
POOL_TIMEOUT_SECONDS = 30
WROTE = "wrote"  # session.info: the transaction wrote something a view may show (issue 17: views kept current)
# tables whose writes no member's view shows: a platform's bookkeeping, what an input is kept or claimed by,
# the search index beside the expertise itself, profiles and accounts (every first contact and profile fetch)
BOOKKEEPING = frozenset({"deliveries", "inbox", "search_state", "search_changes", "search_terms", "expertise_terms",
                         "members", "identities", "matrix_sessions", "matrix_direct_rooms", "matrix_buttons",
                         "matrix_polls", "teams_conversations", "pending_shares", "coordinator_log"})


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _ping_after_idle(engine: AsyncEngine) -> None:
    """Check a pooled connection before use only when it has rested a while.

    A connection that served an input a moment ago is alive; one that rested may have been cut
    (a database restart at night), and is then replaced before the input sees it. SQLAlchemy's
    pool_pre_ping would check every time, which costs three round trips on asyncpg.
    """
    pool, dialect = engine.sync_engine.pool, engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def rested_since(_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def ping_if_rested(connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(connection)
        except Exception as error:
            raise exc.DisconnectionError(f"connection rested {time.monotonic() - idle_since:.0f} s and is gone") \
                from error


def is_unavailable(error: BaseException) -> bool:
    """True when the database could not be reached (as opposed to a bug or a bad query)."""
    if isinstance(error, OSError | asyncio.TimeoutError | ConnectionError):
        return True
    if isinstance(error, exc.DBAPIError):
        return error.connection_invalidated or isinstance(error, exc.OperationalError | exc.InterfaceError)
    return isinstance(error, exc.TimeoutError)


def is_conflict(error: BaseException) -> bool:
    """True for a deadlock or a serialization failure: the transaction lost to another and may be tried again."""
    return isinstance(error, exc.DBAPIError) and getattr(error.orig, "sqlstate", None) in {"40P01", "40001"}


class _CommittedState:
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
VERSION_AND_CHANGES = ("SELECT s.version, s.terms, c.version, c.kind, c.ref FROM search_state s"
                       " LEFT JOIN search_changes c ON c.version > $1 AND c.version <= s.version"
                       " WHERE s.id = 1 ORDER BY c.version")
# and the rows of a read beside the session (`q`, its first column never NULL), in the same round trip and snapshot:
# each of its rows beside each change (both are few), taken apart again in `_read`
VERSION_AND_CHANGES_WITH = ("SELECT s.version, s.terms, c.version, c.kind, c.ref, q.* FROM search_state s"
                            " LEFT JOIN search_changes c ON c.version > $1 AND c.version <= s.version"
                            " LEFT JOIN ({0}) q ON TRUE WHERE s.id = 1 ORDER BY c.version")
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


class _CommittedStatePostgres:
    """PostgreSQL: the committed search_state, read in autocommit on connections of its own.

    Through the session a read costs BEGIN, SELECT and COMMIT (three round trips); here one, a
    statement asyncpg prepares once per connection (bench/version_read.py: p50 0.95 → 0.12 ms).
    One connection is kept for these reads while it is free: taking one from the pool and giving it
    back cost half as much again as the read (p50 0.33 against 0.21 ms with caches as cold as between
    requests); reads that overlap take one from the pool. Like `_CommittedState`, it is used only
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
        the pool, nor while the kept connection is busy. In the same statement `rows`: a read beside the session
        that the request will make (a newcomer's member), for `rows` below. (On a connection of its own beside
        the version read it came 0.4 ms after it, p50, in bench/ack_latency.py; in one statement the read
        costs 0.03 ms more than the version alone, bench/README.md.) While the kept connection is busy, only the
        version read, shared (`_shared`)."""
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
                if time.monotonic() - self._failed_at < PING_AFTER_IDLE_SECONDS:
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
            if self._pool is not None or time.monotonic() - self._failed_at < PING_AFTER_IDLE_SECONDS:
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
        """As `_CommittedState.rows` (placeholders `?`), once the version has been read this way, or None. What was
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


class WriteTurn:
    """SQLite's one writer, taken in turns by this process's writers (a lock is fair, in order), instead of
    each sleeping in SQLite's busy handler (up to 100 ms a time). `first()` is for a writer someone waits on
    to be acknowledged (the inbox keeping presses): it goes before the writers already waiting, so an ack
    waits for at most the one transaction under way, not for the queue (issue 19: acks under a burst)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._first = 0  # writers waiting to go first
        self._clear = asyncio.Event()
        self._clear.set()

    @asynccontextmanager
    async def first(self) -> AsyncIterator[None]:
        self._first += 1
        self._clear.clear()
        try:
            async with self._lock:
                yield
        finally:
            self._first -= 1
            if not self._first:
                self._clear.set()

    async def __aenter__(self) -> None:
        while True:
            await self._clear.wait()
            await self._lock.acquire()
            if not self._first:
                return
            self._lock.release()  # one that goes first came meanwhile

    async def __aexit__(self, *_: object) -> None:
        self._lock.release()


class Database:
    def __init__(self, url: str, *, echo: bool = False, after_commit: AfterCommit | None = None) -> None:
        self.url = make_url(url)
        self.after_commit = after_commit  # hears what each committed transaction did (bot/events.py)
        kwargs: dict[str, Any] = {"echo": echo}
        database = self.url.database or ""
        on_disk = self.dialect == "sqlite" and database not in ("", ":memory:") and "mode=memory" not in database
        if self.url.get_backend_name() == "postgresql":
            # a burst (2,000 ballots in 10 s) queues for a connection rather than failing: the work waits
            # after Slack's ack, and a user is told the database is unreachable only when it is
            kwargs |= {"pool_size": 10, "max_overflow": 10, "pool_timeout": POOL_TIMEOUT_SECONDS,
                       "connect_args": {"timeout": 5, "command_timeout": 30}}
        elif on_disk:
            # connections kept between bursts: an aiosqlite connection beyond the pool is a thread started for one
            # input and closed after it (50 askers at once waited 0.3-0.5 s for them, bench/ack_concurrency.py)
            kwargs |= {"pool_size": 20, "max_overflow": 30, "pool_timeout": POOL_TIMEOUT_SECONDS}
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.url.get_backend_name() == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            _ping_after_idle(self.engine)
        event.listen(self.engine.sync_engine, "begin", _begin)
        event.listen(self.engine.sync_engine, "before_cursor_execute", _watch_writes)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False, class_=LazySession)
        if not event.contains(Session, "do_orm_execute", _executed):  # once per process, for every session
            event.listen(Session, "do_orm_execute", _executed)
            event.listen(Session, "after_flush", _flushed)
            event.listen(Session, "after_begin", _begun_on)
        self._committed_state: _CommittedState | _CommittedStatePostgres | None = \
            _CommittedState(database) if on_disk else None
        if self.dialect == "postgresql" and self.url.get_driver_name() == "asyncpg":
            self._committed_state = _CommittedStatePostgres(
                self.url.set(drivername="postgresql").render_as_string(hide_password=False))
        # SQLite has one writer at a time, and a connection that finds it busy sleeps before it looks again
        # (up to 100 ms a time): so in this process the writers of a burst take turns (a lock is fair, in order)
        self.write_turn: WriteTurn | None = WriteTurn() if self.dialect == "sqlite" else None

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    def read_ahead(self, account: tuple[str, str] | None = None) -> None:
        """An input is on its way in this request: on PostgreSQL its version read goes out now (storage.ahead), and
        with it the read of the member of `account` (one the runtime does not hold: a newcomer)."""
        if isinstance(self._committed_state, _CommittedStatePostgres):
            self._committed_state.read_ahead(None if account is None else member_query(*account))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repositories]:
        """Commit when the block ends normally, roll back on any exception; after a commit, what the
        transaction did (messages queued, messages changed) goes to `after_commit`."""
        session = self._sessions()
        if self._committed_state is not None:
            session.info[PEEK] = self._committed_state
        repos = Repositories(session)
        try:
            yield repos
            await publish_changes(session)  # one raise of the search version, with what it changed
            if self.dialect == "postgresql" and (begun := session.info.get(BEGUN_ON)) is not None \
                    and begun.info.get(CLAIMED) and not begun.info.get(BEYOND_CLAIM, True):
                # it changed nothing but its delivery's claim: no need to wait for the disk. Lost in a crash,
                # the claim only lets a retry of a delivery that changed nothing be answered again. (A transaction
                # that only read writes nothing to wait for: it is spared the round trip.)
                await session.execute(text("SET LOCAL synchronous_commit TO OFF"))
            if is_set_up(session) and (session.in_transaction() or session.new or session.dirty or session.deleted):
                await session.commit()  # (a session never used, or that never began, has nothing to end)
        except BaseException:
            if is_set_up(session):
                await session.close()  # rolled back
            raise
        repos.happened.wrote = bool(session.info.pop(WROTE, False))
        if repos.happened and self.after_commit is not None:
            self.after_commit(repos.happened)

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[Repositories]:
        """A transaction that writes: on SQLite it waits for its turn among this process's writers."""
        async with self.write_turn or nullcontext(), self.transaction() as repos:
            yield repos

    async def reachable(self) -> bool:
        """Whether the database answers a `SELECT 1` within 2 seconds (the health check)."""
        try:
            async with asyncio.timeout(2), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:
            log.warning("health check: database unavailable: %s", error)
            return False
        return True

    async def upgrade(self, revision: str = "head") -> None:
        async with self.engine.begin() as connection:
            await connection.run_sync(_upgrade, revision)

    async def dispose(self) -> None:
        if isinstance(self._committed_state, _CommittedStatePostgres):
            await self._committed_state.close()
        elif self._committed_state is not None:
            self._committed_state.close()
        await self.engine.dispose()


def _executed(state: ORMExecuteState) -> None:
    if state.is_select:
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) not in BOOKKEEPING:
        state.session.info[WROTE] = True


def _flushed(session: Session, _context: Any) -> None:
    if any(getattr(getattr(row, "__table__", None), "name", None) not in BOOKKEEPING
           for row in (*session.new, *session.dirty, *session.deleted)):
        session.info[WROTE] = True


BEYOND_CLAIM = "netwerkbot.beyond_claim"  # connection.info: this transaction wrote more than a delivery's claim
CLAIMED = "netwerkbot.claimed"  # connection.info: this transaction claimed a delivery
BEGUN_ON = "netwerkbot.begun_on"  # session.info: the connection its transaction began on
CLAIM = "INSERT INTO deliveries "


async def has_written(session: AsyncSession) -> bool:
    """Whether the session's transaction has written anything so far (its pending changes flushed first)."""
    if not is_set_up(session):
        return False
    if session.new or session.dirty or session.deleted:
        await session.flush()
    begun = session.info.get(BEGUN_ON)
    return begun is not None and bool(begun.info.get(BEYOND_CLAIM) or begun.info.get(CLAIMED))


def _watch_writes(connection: Any, _cursor: Any, statement: str, _parameters: Any, context: Any, *_: Any) -> None:
    if statement.startswith(CLAIM):
        connection.info[CLAIMED] = True
    else:
        head = statement.lstrip()[:6].upper()  # (a search's ranking is a SELECT that begins WITH)
        reads = head in ("SELECT", "SET LO") or head[:5] == "WITH "
        if not reads or (context is not None and (context.isinsert or context.isupdate or context.isdelete)):
            connection.info[BEYOND_CLAIM] = True


def _begin(connection: Any) -> None:
    connection.info[BEYOND_CLAIM] = connection.info[CLAIMED] = False


def _begun_on(session: Any, _transaction: Any, connection: Any) -> None:
    """The connection the session's transaction runs on (it began: it has something to commit); and the
    session now reads from its own snapshot, which a peek at the latest state may be newer than."""
    session.info[BEGUN_ON] = connection
    session.info[BEGUN] = True


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)
