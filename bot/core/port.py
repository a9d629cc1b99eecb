"""What an adapter may ask of the bot: the narrow port between a platform and everything else.

An adapter (Slack, Matrix, the terminal, the next platform) is given a `Port`, never the bot
itself: it turns platform events into inputs for `dispatch`, renders what comes back, and
delivers what the bot sends by itself through the `Sender` it hands to `keep_time`. It never
sees the database, the features or the handlers. `bot.app.Bot` implements the port.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from bot.core.inputs import Action, Actor, Command, FormSubmission, Input, MembershipChanged
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


HOME_VIEW = "home:"  # the key of a person's own view (Slack's Home tab): home:<platform>:<user id>


def home_view(platform: str, user_id: str) -> str:
    return f"{HOME_VIEW}{platform}:{user_id}"


@runtime_checkable
class Publisher(Protocol):
    """A sender that can show a person a view of their own (Slack's Home tab; issue 17)."""

    async def publish(self, key: str, reply: Reply) -> None:
        """Show `reply` as the view `key` (`home:<platform>:<user id>`)."""
        ...


@dataclass(frozen=True)
class Sending:
    """The outbox message being posted, for senders that make posting idempotent (bot/outbox.py)."""

    message_id: int
    resend: bool  # an earlier try's lease ran out unrecorded: the platform may have taken it already
    since: datetime  # when the message was queued (nothing older can be it)


_sending: ContextVar[Sending | None] = ContextVar("outbox_sending", default=None)


def sending() -> Sending | None:
    """The outbox message the current `Sender.send` is posting (None outside the outbox)."""
    return _sending.get()


Kept = Action | Command | FormSubmission  # what an adapter keeps in the inbox before its ack


class KeptLeftover(Protocol):
    """An input acknowledged but not (known to be) handled: its row, the inputs, the adapter's own notes."""

    @property
    def entry(self) -> int: ...

    @property
    def inputs(self) -> list[Kept]: ...

    @property
    def extra(self) -> dict[str, Any]: ...


class Inbox(Protocol):
    """Inputs kept before their ack and handled after it (bot/inbox.py; edge, issue 14)."""

    def lane(self) -> AbstractAsyncContextManager[None]: ...

    async def patiently(self, dispatch: Callable[[Kept], Awaitable[Outcome]], inp: Kept) -> Outcome: ...

    async def handle(self, inputs: list[Kept], together: Callable[[list[Kept]], Awaitable[list[Outcome]]],
                     prepare: Callable[[list[Kept]], Awaitable[None]] | None = None) -> list[Outcome]:
        """One row's inputs handled by `together` with the rows handed in meanwhile, in one transaction
        (`prepare` first, for the whole group, outside the database's turn)."""
        ...

    async def keep(self, platform: str, key: str, inputs: list[Kept], extra: Mapping[str, Any]) -> int: ...

    async def done(self, entry: int) -> None: ...

    async def waiting(self, platform: str) -> Sequence[KeptLeftover]: ...


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

    def is_question(self, inp: Input) -> bool:
        """Whether the input only asks (a search): the dispatcher answers it to a person who is no member yet
        without making them one, so the adapter may answer first and have them named after."""
        ...

    def expect_input(self, actor: Actor) -> None:
        """An input of `actor` is on its way in this request, to be answered in its response (a Slack slash
        command): what answering it reads first may start now, while the request is still routed
        (storage/ahead.py)."""
        ...

    async def dispatch_kept(self, inp: Input) -> Outcome:
        """Handle an input kept in the inbox: a database that is away raises (the row stays), no apology."""
        ...

    async def dispatch_kept_together(self, inputs: Sequence[Input]) -> list[Outcome]:
        """Kept inputs handled in order in one transaction, each in a savepoint (group commit); a database
        that is away raises for all of them."""
        ...

    async def membership(self, change: MembershipChanged) -> None:
        """Who is (or came, or left) in a circle's channel."""
        ...

    def new_inbox(self) -> Inbox:
        """An inbox for the inputs an adapter acknowledges before handling them."""
        ...

    def add_routes(self, app: Any, undecryptable: Mapping[str, int] | None = None) -> None:
        """The bot's own HTTP routes (`/metrics`, `/healthz/live`, `/healthz/ready`) on an adapter's aiohttp app;
        `undecryptable`: the Matrix adapter's count of events it could not decrypt, for /metrics."""
        ...

    async def refresh_profile(self, actor: Actor, fetch: ProfileFetcher) -> bool:
        """Have the actor's profile fetched (by `fetch`, the platform's look-up) when their member is new, was
        never named by the platform, or is stale; a new person becomes a member under the name it gives.
        True when the member now has the platform's profile, False when the platform could not tell."""
        ...

    async def refresh_profiles(self, actors: Sequence[Actor], fetch: ProfileFetcher, *,
                               new_only: bool = False) -> set[str]:
        """`refresh_profile` for many at once (two transactions, the look-ups side by side): the user ids of
        those whose member now has the platform's profile. `new_only`: only for people who are no member yet."""
        ...

    async def account_of(self, channel: str, platform: str) -> str | None:
        """For the outbox channel `member:<id>`: the member's user id on `platform`, None when they have none."""
        ...

    async def calendar_feed(self, series: str) -> bytes | None:
        """A meeting series' iCalendar feed, None for an unknown series."""
        ...

    def watch(self, key: str) -> None:
        """A person opened the view `key` (`home:<platform>:<user id>`): publish it now and keep it current
        while they look (through the sender's `publish`, see `Publisher`)."""
        ...

    async def healthy(self) -> bool:
        """Whether the database answers (within 2 seconds)."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def keep_time(self, sender: Sender, platform: str = "") -> None:
        """Deliver what the bot sends by itself through `sender`; start reminders, deadlines and the outbox."""
        ...
