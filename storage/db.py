"""The async engine, one transaction per input, and schema upgrades through Alembic."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import ORMExecuteState, Session

from storage.accounts import member_query
from storage.changes import publish_changes
from storage.committed import CommittedState, CommittedStatePostgres
from storage.repositories import BEGUN, PEEK, Repositories
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
        self._committed_state: CommittedState | CommittedStatePostgres | None = \
            CommittedState(database) if on_disk else None
        if self.dialect == "postgresql" and self.url.get_driver_name() == "asyncpg":
            self._committed_state = CommittedStatePostgres(
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
        if isinstance(self._committed_state, CommittedStatePostgres):
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
        if isinstance(self._committed_state, CommittedStatePostgres):
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
