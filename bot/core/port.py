"""What an adapter may ask of the bot: the narrow port between a platform and everything else.

An adapter (Slack, Matrix, the terminal, the next platform) is given a `Port`, never the bot
itself: it turns platform events into inputs for `dispatch`, renders what comes back, and
delivers what the bot sends by itself through the `Sender` it hands to `keep_time`. It never
sees the database, the features or the handlers. `bot.app.Bot` implements the port.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.inputs import Actor, Input
from bot.core.reply import Outcome, Reply
from config.i18n import Catalog
from config.settings import Settings


@dataclass(frozen=True)
class Profile:
    """What a platform tells about a person: their name, job title and e-mail address."""

    name: str
    title: str = ""
    email: str = ""


ProfileFetcher = Callable[[str], Awaitable[Profile | None]]


class DeliveryDelayed(Exception):
    """The platform cannot take the message now (rate limit, server error, unreachable): try later."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class DeliveryRefused(Exception):
    """The platform will never take this message as it is (unknown channel, bot not invited)."""


class Sender(Protocol):
    async def send(self, channel: str, reply: Reply) -> str:
        """Post `reply` in `channel` (a channel role, `member:<id>` for a direct message, or a platform
        id); returns the platform's id of the message."""
        ...

    async def update(self, channel: str, ref: str, reply: Reply) -> None:
        """Replace the content of the message `ref` that `send` posted in `channel`."""
        ...


class Port(Protocol):
    """The bot as an adapter sees it."""

    @property
    def settings(self) -> Settings: ...

    @property
    def catalog(self) -> Catalog: ...

    def now(self) -> datetime:
        """The bot's clock (a fixed one in tests)."""
        ...

    async def dispatch(self, inp: Input) -> Outcome:
        """Handle one input (a command, a press, a form, a message, a reaction) and say what to answer."""
        ...

    async def refresh_profile(self, actor: Actor, fetch: ProfileFetcher) -> bool:
        """Have the actor's profile fetched (by `fetch`, the platform's look-up) when their member is new, was
        never named by the platform, or is stale; a new person becomes a member under the name it gives.
        True when the member now has the platform's profile, False when the platform could not tell."""
        ...

    async def account_of(self, channel: str, platform: str) -> str | None:
        """For the outbox channel `member:<id>`: the member's user id on `platform`, None when they have none."""
        ...

    async def calendar_feed(self, series: str) -> bytes | None:
        """A meeting series' iCalendar feed, None for an unknown series."""
        ...

    async def healthy(self) -> bool:
        """Whether the database answers (within 2 seconds)."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def keep_time(self, sender: Sender) -> None:
        """Deliver what the bot sends by itself through `sender`; start reminders, deadlines and the outbox."""
        ...
