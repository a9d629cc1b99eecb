"""A fresh PostgreSQL database for one benchmark run, dropped afterwards.

The server is the one the tests use: NETWERKBOT_TEST_POSTGRES_URL, by default the local
PostgreSQL with trust authentication (see the README).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

ADMIN = os.environ.get("NETWERKBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


@asynccontextmanager
async def fresh_database(template: str | None = None) -> AsyncIterator[str]:
    """The SQLAlchemy URL of a new database, empty or a copy of the one at `template` (to which nobody may be
    connected); it is dropped when the block ends."""
    name = f"nwb_bench_{uuid.uuid4().hex[:8]}"
    copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
    await _admin(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield make_url(ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(statement: str) -> None:
    admin = await asyncpg.connect(make_url(ADMIN).set(drivername="postgresql").render_as_string(False))
    try:
        await admin.execute(statement)
    finally:
        await admin.close()
