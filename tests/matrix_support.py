"""The Matrix adapter against the session's Synapse: a bot with its own account, and people.

Every test gets fresh accounts (a random suffix), so tests share the homeserver but nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.adapters.matrix import MatrixAdapter, running
from bot.app import Bot
from bot.core.clock import ManualClock
from storage.matrix import MatrixStore
from tests.conftest import started_bot
from tests.synapse import PASSWORD, Person, Synapse, joined


@dataclass
class MatrixWorld:
    synapse: Synapse
    url: str  # the bot's database
    clock: ManualClock
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    people: list[Person] = field(default_factory=list)

    @property
    def bot_id(self) -> str:
        return f"@netwerkbot-{self.suffix}:localhost"

    async def register_bot(self) -> None:
        await self.synapse.register(f"netwerkbot-{self.suffix}", displayname="netwerkbot")

    def localpart(self, name: str) -> str:
        return f"{name}-{self.suffix}"

    def user_id(self, name: str) -> str:
        return f"@{self.localpart(name)}:localhost"

    @property
    def folder(self) -> Path:
        """The test's own folder (the bot's database is in it; so is its crypto store, beside it)."""
        return Path(self.url.partition("///")[2]).parent

    async def person(self, name: str, displayname: str = "", *, encrypted: bool = True) -> Person:
        """A person on Element: their client encrypts and decrypts, as Element does (a crypto store of its own);
        the bot's direct rooms are encrypted."""
        store = self.folder / f"person-{name}-{uuid.uuid4().hex[:6]}" if encrypted else None
        person = await Person(self.synapse, self.localpart(name), displayname or name.capitalize(),
                              store=store).start()
        self.people.append(person)
        return person

    async def new_device(self, person: Person) -> Person:
        """The same person on a second, encrypting device (a new login with a crypto store of its own)."""
        device = Person(self.synapse, person.localpart, person.displayname,
                        store=self.folder / f"person-{person.localpart}-{uuid.uuid4().hex[:6]}")
        device.user_id = person.user_id
        await device.start(register=False)
        self.people.append(device)
        return device

    async def room_with_bot(self, owner: Person, *others: Person, encrypted: bool = False) -> str:
        """A room of `owner` with the bot (and `others`) in it, once the bot has joined."""
        room = await owner.create_room(invite=(self.bot_id, *(o.user_id for o in others)), encrypted=encrypted)
        await joined(owner, room, self.bot_id)
        for other in others:
            await joined(other, room, other.user_id)
        return room

    @asynccontextmanager
    async def bot(self, **overrides: Any) -> AsyncIterator[tuple[Bot, MatrixAdapter]]:
        settings: dict[str, Any] = {"matrix_homeserver": self.synapse.url, "matrix_user_id": self.bot_id,
                                    "matrix_password": PASSWORD}
        settings.update(overrides)
        async with started_bot(self.url, self.clock, **settings) as bot:
            adapter = MatrixAdapter(bot, MatrixStore(bot.db, bot.clock.now), sync_timeout_ms=2000)
            async with running(adapter):
                await adapter.synced.wait()  # the first sync: from here on the bot answers
                yield bot, adapter

    async def close(self) -> None:
        for person in self.people:
            await person.close()


async def matrix_world(synapse: Synapse, sqlite_url: str, clock: ManualClock) -> AsyncIterator[MatrixWorld]:
    """The fixture of the Matrix tests (each module: `world = pytest.fixture(matrix_world, name="world")`)."""
    w = MatrixWorld(synapse, sqlite_url, clock)
    await w.register_bot()
    try:
        yield w
    finally:
        await w.close()


def body(event: dict[str, Any]) -> str:
    return str(content(event).get("body", ""))


def html(event: dict[str, Any]) -> str:
    return str(content(event).get("formatted_body", ""))


def content(event: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = event.get("content") or {}
    return found


def direct_room(person: Person, bot_id: str) -> str:
    """The room the bot invited this person into (its direct room)."""
    rooms = [room for room, inviter in person.invited if inviter == bot_id]
    assert rooms, f"{person.user_id} has no invitation from {bot_id}"
    return rooms[-1]
