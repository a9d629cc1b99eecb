"""What the Matrix adapter keeps: its login and sync token, direct rooms, shown buttons and polls.

Plain rows: nothing here knows the Matrix protocol (storage never imports nio). `MatrixStore` is what the
adapter is given; handlers cannot reach it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import MatrixButtons, MatrixDirectRoom, MatrixPoll, MatrixSession
from storage.statements import insert_ignore

ShownButton = tuple[str, str, str]  # action id, value, label


@dataclass(frozen=True)
class MatrixSessionRecord:
    user_id: str
    device_id: str
    access_token: str
    next_batch: str


@dataclass(frozen=True)
class MatrixPollRecord:
    id: int
    room_id: str
    event_id: str
    text_event_id: str
    secret: bool
    buttons: tuple[ShownButton, ...]
    ended_at: datetime | None


def _buttons(text: str) -> tuple[ShownButton, ...]:
    return tuple((str(a), str(v), str(label)) for a, v, label in json.loads(text))


def _poll(row: MatrixPoll) -> MatrixPollRecord:
    return MatrixPollRecord(row.id, row.room_id, row.event_id or "", row.text_event_id, row.secret,
                            _buttons(row.buttons), row.ended_at)


class MatrixRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- login and sync ----------------------------------------------------------------------------

    async def login(self, user_id: str) -> MatrixSessionRecord | None:
        row = await self.session.get(MatrixSession, user_id)
        return MatrixSessionRecord(row.user_id, row.device_id, row.access_token, row.next_batch) if row else None

    async def save_login(self, user_id: str, device_id: str, access_token: str, now: datetime) -> None:
        """A new login (or token) for the bot's account; the sync position is kept when the device is."""
        row = await self.session.get(MatrixSession, user_id)
        if row is None:
            self.session.add(MatrixSession(user_id=user_id, device_id=device_id, access_token=access_token,
                                           next_batch="", updated_at=now))
        else:
            if row.device_id != device_id:
                row.next_batch = ""
            row.device_id, row.access_token, row.updated_at = device_id, access_token, now
        await self.session.flush()

    async def save_position(self, user_id: str, next_batch: str, now: datetime) -> None:
        await self.session.execute(update(MatrixSession).where(MatrixSession.user_id == user_id)
                                   .values(next_batch=next_batch, updated_at=now))

    # -- direct rooms --------------------------------------------------------------------------------

    async def direct_room(self, user_id: str) -> str | None:
        row = await self.session.get(MatrixDirectRoom, user_id)
        return row.room_id if row else None

    async def direct_user(self, room_id: str) -> str | None:
        """Whose direct room this is, or None when it is a shared room."""
        return (await self.session.execute(select(MatrixDirectRoom.user_id)
                                           .where(MatrixDirectRoom.room_id == room_id))).scalars().first()

    async def save_direct_room(self, user_id: str, room_id: str) -> None:
        await self.session.execute(delete(MatrixDirectRoom).where(MatrixDirectRoom.user_id == user_id))
        self.session.add(MatrixDirectRoom(user_id=user_id, room_id=room_id))
        await self.session.flush()

    # -- buttons shown as numbered commands ------------------------------------------------------------

    async def show_buttons(self, room_id: str, user_id: str, buttons: list[ShownButton], now: datetime) -> None:
        """The buttons now shown in `room_id` to `user_id` (empty: to everyone there), replacing the last ones."""
        await self.session.execute(delete(MatrixButtons).where(MatrixButtons.room_id == room_id,
                                                               MatrixButtons.user_id == user_id))
        await insert_ignore(self.session, _table(MatrixButtons), [{
            "room_id": room_id, "user_id": user_id, "buttons": json.dumps(buttons, ensure_ascii=False),
            "shown_at": now}])

    async def shown_buttons(self, room_id: str, user_id: str) -> tuple[ShownButton, ...]:
        """The buttons shown last in the room to this user or to everyone, whichever came later."""
        rows = (await self.session.execute(
            select(MatrixButtons).where(MatrixButtons.room_id == room_id, MatrixButtons.user_id.in_([user_id, ""]))
            .order_by(MatrixButtons.shown_at.desc()))).scalars().all()
        return _buttons(rows[0].buttons) if rows else ()

    # -- polls ------------------------------------------------------------------------------------------

    async def add_poll(self, room_id: str, secret: bool, buttons: list[ShownButton], now: datetime) -> int:
        row = MatrixPoll(room_id=room_id, event_id=None, text_event_id="", secret=secret,
                         buttons=json.dumps(buttons, ensure_ascii=False), created_at=now)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def poll_posted(self, poll_id: int, event_id: str, text_event_id: str) -> None:
        await self.session.execute(update(MatrixPoll).where(MatrixPoll.id == poll_id)
                                   .values(event_id=event_id, text_event_id=text_event_id))

    async def poll(self, poll_id: int) -> MatrixPollRecord | None:
        row = await self.session.get(MatrixPoll, poll_id)
        return _poll(row) if row else None

    async def poll_by_event(self, event_id: str) -> MatrixPollRecord | None:
        row = (await self.session.execute(select(MatrixPoll).where(MatrixPoll.event_id == event_id))).scalar()
        return _poll(row) if row else None

    async def end_poll(self, poll_id: int, now: datetime) -> bool:
        """Mark the poll ended; False when it was already (so it is ended once)."""
        result = await self.session.execute(update(MatrixPoll).where(MatrixPoll.id == poll_id,
                                                                     MatrixPoll.ended_at.is_(None))
                                            .values(ended_at=now))
        return int(result.rowcount) == 1  # type: ignore[attr-defined]


def _table(model: type[MatrixButtons]) -> Table:
    return model.__table__  # type: ignore[return-value]


class MatrixStore:
    """The Matrix adapter's own state, each call one transaction: built in the composition root (bot/cli.py)
    and handed to the adapter only; handlers never see it (it is not in `Repositories`). Implements
    bot/adapters/matrix/state.py's `MatrixState`."""

    def __init__(self, db: Database, now: Callable[[], datetime]) -> None:
        self.db = db
        self.now = now  # the bot's clock

    @contextlib.asynccontextmanager
    async def _repo(self) -> AsyncIterator[MatrixRepository]:
        async with self.db.transaction() as repos:
            yield MatrixRepository(repos.session)

    async def login(self, user_id: str) -> MatrixSessionRecord | None:
        async with self._repo() as repo:
            return await repo.login(user_id)

    async def save_login(self, user_id: str, device_id: str, access_token: str) -> None:
        async with self._repo() as repo:
            await repo.save_login(user_id, device_id, access_token, self.now())

    async def save_position(self, user_id: str, next_batch: str) -> None:
        async with self._repo() as repo:
            await repo.save_position(user_id, next_batch, self.now())

    async def direct_room(self, user_id: str) -> str | None:
        async with self._repo() as repo:
            return await repo.direct_room(user_id)

    async def direct_user(self, room_id: str) -> str | None:
        async with self._repo() as repo:
            return await repo.direct_user(room_id)

    async def save_direct_room(self, user_id: str, room_id: str, *, keep: bool = False) -> bool:
        """Keep `room_id` as the user's direct room; with `keep`, only when they have none yet. True when saved."""
        async with self._repo() as repo:
            if keep and await repo.direct_room(user_id) is not None:
                return False
            await repo.save_direct_room(user_id, room_id)
            return True

    async def show_buttons(self, room_id: str, user_id: str, buttons: list[ShownButton]) -> None:
        async with self._repo() as repo:
            await repo.show_buttons(room_id, user_id, buttons, self.now())

    async def shown_buttons(self, room_id: str, user_id: str) -> tuple[ShownButton, ...]:
        async with self._repo() as repo:
            return await repo.shown_buttons(room_id, user_id)

    async def add_poll(self, room_id: str, secret: bool, buttons: list[ShownButton]) -> int:
        async with self._repo() as repo:
            return await repo.add_poll(room_id, secret, buttons, self.now())

    async def poll_posted(self, poll_id: int, event_id: str, text_event_id: str) -> None:
        async with self._repo() as repo:
            await repo.poll_posted(poll_id, event_id, text_event_id)

    async def poll(self, poll_id: int) -> MatrixPollRecord | None:
        async with self._repo() as repo:
            return await repo.poll(poll_id)

    async def poll_by_event(self, event_id: str) -> MatrixPollRecord | None:
        async with self._repo() as repo:
            return await repo.poll_by_event(event_id)

    async def end_poll(self, poll_id: int) -> bool:
        async with self._repo() as repo:
            return await repo.end_poll(poll_id, self.now())
