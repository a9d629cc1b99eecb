"""Shared fixtures: databases (SQLite and a fresh PostgreSQL database per test), clock, bot.

PostgreSQL is not optional: when it cannot be reached the PostgreSQL tests fail, they are not
skipped (`NETWERKBOT_TEST_POSTGRES_URL` points elsewhere; default: the local trust-auth server).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.engine import make_url

from bot.app import Bot, build
from bot.core.clock import ManualClock
from config.settings import Settings
from tests.synapse import Synapse

AMS = ZoneInfo("Europe/Amsterdam")
PG_URL = os.environ.get("NETWERKBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True, scope="session")
def _clean_environment() -> Iterator[None]:
    """No developer's .env or shell settings leak into a test."""
    saved = {k: v for k, v in os.environ.items()
             if (k.startswith(("NETWERKBOT_", "SLACK_", "MATRIX_")) and k != "NETWERKBOT_TEST_POSTGRES_URL")
             or k == "DATABASE_URL"}
    for key in saved:
        del os.environ[key]
    yield
    os.environ.update(saved)


def _dsn(url: str, database: str | None = None) -> str:
    u = make_url(url)
    if database:
        u = u.set(database=database)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"nwb_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(_dsn(PG_URL), timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        pytest.fail(f"PostgreSQL at {PG_URL} is not reachable: {error}")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    admin = await asyncpg.connect(_dsn(PG_URL), timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'netwerkbot.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'netwerkbot.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def clock() -> ManualClock:
    """Tuesday 24 November 2026, 09:00 in Amsterdam."""
    return ManualClock(datetime(2026, 11, 24, 9, 0, tzinfo=AMS))


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {"database_url": database_url, "coordinators": frozenset({"console:coord", "UCOORD"})}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@asynccontextmanager
async def started_bot(url: str, clock: ManualClock, **overrides: object) -> AsyncIterator[Bot]:
    """A bot with its schema upgraded, stopped afterwards."""
    instance = build(make_settings(url, **overrides), clock=clock)
    await instance.start()
    try:
        yield instance
    finally:
        await instance.stop()


@pytest.fixture
async def bot(database_url: str, clock: ManualClock) -> AsyncIterator[Bot]:
    """A started bot on a fresh database (SQLite and PostgreSQL)."""
    async with started_bot(database_url, clock) as instance:
        yield instance


@pytest.fixture
async def sqlite_bot(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Bot]:
    """A started bot on SQLite only, for tests about behaviour rather than storage."""
    async with started_bot(sqlite_url, clock) as instance:
        yield instance


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    """One real Synapse for the whole run (started only when a test asks for it); never skipped: a
    Synapse that does not start fails the tests that need it."""
    server = Synapse(tmp_path_factory.mktemp("synapse")).start()
    try:
        yield server
    finally:
        server.stop()
