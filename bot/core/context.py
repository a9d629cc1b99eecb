"""What every piece of feature code is handed: one transaction's repositories, the catalogue, the
moment, the settings, and `post` for what the bot says by itself.

The types are generic over the repositories (and the member and occurrence records), so that the
core and the runtime build contexts without knowing storage's or the features' classes;
`handlers/context.py` names the concrete ones the features use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from bot.core.errors import UserError
from bot.core.inputs import Actor
from bot.core.reply import Reply, reply_to_json
from config.i18n import Catalog
from config.settings import Settings


class Postbox(Protocol):
    """The outbox as a transaction sees it: messages queued and sent messages changed are collected by
    the unit of work and acted on after its commit (bot/events.py), never before."""

    async def enqueue(self, channel: str, body: str, now: datetime, *, key: str | None = None) -> bool: ...

    def touch(self, key: str) -> None: ...


class UnitOfWork(Protocol):
    @property
    def outbox(self) -> Postbox: ...


R = TypeVar("R", bound=UnitOfWork)
M = TypeVar("M")
O = TypeVar("O")  # noqa: E741


@dataclass(frozen=True)
class Context(Generic[R]):
    repos: R  # one transaction: committed when the code returns, rolled back when it raises
    t: Catalog
    now: datetime  # aware, in the cooperation's timezone
    settings: Settings

    async def post(self, channel: str, reply: Reply, *, key: str | None = None) -> bool:
        """Say `reply` in `channel` (a channel role, `member:<id>`, or a platform id) through the outbox,
        once the transaction commits; with a key, a second message with that key is not queued (False)."""
        return await self.repos.outbox.enqueue(channel, reply_to_json(reply), self.now, key=key)

    def changed(self, key: str) -> None:
        """The sent message with outbox key `key` shows something that changed: render it anew after the commit."""
        self.repos.outbox.touch(key)


@dataclass(frozen=True)
class HandlerContext(Context[R], Generic[R, M]):
    """An input's context: the member who acts, and how they reach the bot."""

    member: M
    actor: Actor
    is_coordinator: bool
    prefix: str  # how commands are typed on this platform: "/" or "!"
    pupil_data_confirmed: bool = False  # the author chose "Toch delen" after the pupil-data warning
    # set by require_coordinator: the dispatcher logs the input as a coordinator action once it succeeded
    coordinator_acts: list[bool] = field(default_factory=list)

    def require_coordinator(self) -> None:
        if not self.is_coordinator:
            raise UserError(self.t("general.only_coordinators"))
        self.acts_as_coordinator()

    def acts_as_coordinator(self) -> None:
        """This input uses coordinator rights (also where a handler checked `is_coordinator` itself, e.g.
        for another member's entry): once it succeeds, the dispatcher writes it to the coordinators' log."""
        self.coordinator_acts.append(True)


@dataclass(frozen=True)
class JobContext(Context[R], Generic[R, O]):
    """What a scheduled job, a planner or a refresh renderer gets: nobody acts."""

    late: bool = False  # the moment passed a while ago (the bot was down): say so
    occurrence: O | None = None  # the occurrence a job acts on (None for planners and renderers)

    @property
    def due(self) -> O:
        if self.occurrence is None:
            raise LookupError("this context belongs to no occurrence")
        return self.occurrence
