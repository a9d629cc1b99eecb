"""What every adapter shares: one table from outcome and part types to their handling, background work,
profiles fetched before a person is first shown and refreshed at most every ten minutes, `member:`
targets, and serving (HTTP without an access log) until SIGINT/SIGTERM.

An adapter subclasses `AdapterBase` with the bot's narrow port (bot/core/port.py), fills in its own
`deliver_reply`/`deliver_form` and `fetch_profile`, and renders parts through `render_parts` with a
table of its own: a part type the table lacks is an exception naming it, never a silently empty message.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from typing import Any, Generic, TypeVar

from aiohttp import web

from bot.core.inputs import Actor, Input
from bot.core.port import DeliveryRefused, Port, Profile
from bot.core.reply import Form, FormRejected, Outcome, Part, Reply

log = logging.getLogger(__name__)

PROFILE_CHECK_SECONDS = 600.0
# a profile look-up due after an answer starts this much later: the answer first leaves the machine. Started at once,
# its work took the CPU from whatever carries the answer out (a proxy, or on one machine the reader): a first contact's
# answer was read 0.5 ms later than another's, p50, though it was ready only 0.13 ms later (bench/README.md)
PROFILES_AFTER_ANSWER_SECONDS = 0.002
MAX_PROFILES_CHECKED = 50_000

OriginT = TypeVar("OriginT")  # an adapter's origin: where an input came from, so its answer goes back there


class CannotRender(TypeError):
    """An outcome or a reply part this adapter has no way to show: a programming error, said loudly."""

    def __init__(self, what: object, adapter: str) -> None:
        super().__init__(f"{adapter} cannot render {type(what).__name__}")
        self.kind = type(what)


def render_parts(parts: Iterable[Part], table: Mapping[type[Any], Callable[[Any], None]], adapter: str) -> None:
    """Hand each part to the entry of its type in `table`; a type without one raises CannotRender."""
    for part in parts:
        handle = table.get(type(part))
        if handle is None:
            raise CannotRender(part, adapter)
        handle(part)


class AdapterBase(Generic[OriginT]):
    platform = ""

    def __init__(self, port: Port) -> None:
        self.port = port
        self.t = port.catalog
        self.tasks: set[asyncio.Task[None]] = set()
        self._profiles_checked: dict[str, float] = {}  # user id → time.monotonic() of the last check
        self._named: set[str] = set()  # user ids whose member has their platform name (fetched or known)
        self._due: dict[str, Actor] = {}  # profiles to refresh after their answers, in one batch (`_refresh_due`)
        self._refreshing = False
        self.outcomes: dict[type[Any], Callable[[Any, OriginT], Awaitable[None]]] = {
            type(None): self._nothing, Reply: self.deliver_reply, Form: self.deliver_form,
            FormRejected: self.deliver_rejected}

    # -- delivering an outcome: one table ----------------------------------------------------------------

    async def deliver(self, outcome: Outcome, origin: OriginT) -> None:
        handle = self.outcomes.get(type(outcome))
        if handle is None:
            raise CannotRender(outcome, type(self).__name__)
        await handle(outcome, origin)

    async def _nothing(self, _outcome: None, _origin: OriginT) -> None:
        return None

    async def deliver_reply(self, reply: Reply, origin: OriginT) -> None:
        raise CannotRender(reply, type(self).__name__)

    async def deliver_form(self, form: Form, origin: OriginT) -> None:
        raise CannotRender(form, type(self).__name__)

    async def deliver_rejected(self, rejected: FormRejected, origin: OriginT) -> None:
        """A refused form outside its dialog (the submission outlived the ack): its errors as one message."""
        await self.deliver_reply(Reply.text("\n".join(rejected.errors.values()), error=True), origin)

    # -- background work ---------------------------------------------------------------------------------

    def background(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run `work` beside the answer; kept so that stopping waits for it, and failures are logged."""
        task = asyncio.create_task(work, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("background work %s failed", task.get_name(), exc_info=error)

    async def drain(self) -> None:
        """Wait until all background work is done (including work that background work started)."""
        while self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    # -- profiles ------------------------------------------------------------------------------------------

    async def fetch_profile(self, user_id: str) -> Profile | None:
        """The platform's profile of this person, or None when it cannot tell now."""
        return None

    async def dispatch(self, inp: Input, *others: Actor) -> Outcome:
        """Dispatch `inp` once its actor (and `others`, e.g. the author of a message reacted to) has a member
        with their platform name: a person is never shown by their login handle, not even the first time.
        A question (a search) needs no member: it is answered at once, and a newcomer who asked it is named
        by the profile refresh after the answer (`refresh_profile_later`), not before it."""
        if not others and inp.actor.user_id not in self._named and self.port.is_question(inp):
            return await self.port.dispatch(inp)
        for actor in (inp.actor, *others):
            await self.name_first(actor)
        return await self.port.dispatch(inp)

    async def name_first(self, actor: Actor) -> None:
        """Before a person's first input in this process: have their profile fetched when their member is new
        or still has the name of a login handle (one look-up in the database; none after success). A member
        named otherwise (imported, or by the platform before) is answered at once; their profile is refreshed
        after the answer, when it is due (`refresh_profile_later`)."""
        if actor.user_id in self._named or not actor.user_id:
            return
        try:
            named = await self.port.refresh_profiles([actor], self.fetch_profile, new_only=True)
        except Exception:  # the database away, say: the input is still dispatched (and answered in Dutch)
            log.warning("could not fetch the profile of %s before their input", actor.user_id, exc_info=True)
            return
        self._have_names(named)

    async def name_all_first(self, actors: Iterable[Actor]) -> None:
        """Before a group of inputs (a burst of presses): the people who are no member yet get one named by the
        platform, all at once (`port.refresh_profiles`); the profiles of the others are refreshed beside the
        group, also at once, instead of one look-up and transaction per person after each answer."""
        new = {actor.user_id: actor for actor in actors if actor.user_id and actor.user_id not in self._named}
        try:
            named = await self.port.refresh_profiles(list(new.values()), self.fetch_profile, new_only=True) \
                if new else set()
        except Exception:
            log.warning("could not fetch the profiles of %d people before their input", len(new), exc_info=True)
            return
        self._have_names(named)
        due = [actor for actor in new.values() if self.profile_due(actor.user_id)]
        if due:
            self.background(self._refresh_all(due), f"profiles of {len(due)}")

    async def _refresh_all(self, actors: list[Actor]) -> None:
        await self.port.refresh_profiles(actors, self.fetch_profile)

    def _have_names(self, user_ids: set[str]) -> None:
        if len(self._named) + len(user_ids) >= MAX_PROFILES_CHECKED:
            self._named.clear()
        self._named |= user_ids

    def profile_due(self, user_id: str) -> bool:
        """Whether to have the profile service look at this person now.

        The service decides from the database whether the profile is stale, but asking costs a
        transaction, and it runs beside the next request: someone paging through results or
        sending a burst of commands needs it asked once, not every time (and a look-up that
        fails is not retried on every command either).
        """
        now = time.monotonic()
        checked = self._profiles_checked.get(user_id)
        if checked is not None and now - checked < PROFILE_CHECK_SECONDS:
            return False
        if len(self._profiles_checked) >= MAX_PROFILES_CHECKED:
            self._profiles_checked.clear()
        self._profiles_checked[user_id] = now
        return True

    def refresh_profile_later(self, actor: Actor) -> None:
        """After the answer: a stale profile fetched again (at most every ten minutes per person), as background
        work, started only when it is due. The profiles due while a batch is refreshed wait for the next batch:
        one refresh at a time beside the answers, two transactions per batch (`port.refresh_profiles`), however
        many people asked meanwhile. It starts a moment after the answer (`PROFILES_AFTER_ANSWER_SECONDS`)."""
        if self.profile_due(actor.user_id):
            self._due[actor.user_id] = actor
            if not self._refreshing:
                self._refreshing = True
                self.background(self._refresh_due(), "profiles due")

    async def _refresh_due(self) -> None:
        try:
            await asyncio.sleep(PROFILES_AFTER_ANSWER_SECONDS)
            while self._due:
                actors, self._due = list(self._due.values()), {}
                try:  # who has their profile now needs no naming before a later input (`name_first`)
                    self._have_names(await self.port.refresh_profiles(actors, self.fetch_profile))
                except Exception:  # the database away, say: these are looked at again in ten minutes
                    log.warning("could not refresh the profiles of %d people", len(actors), exc_info=True)
        finally:
            self._refreshing = False

    # -- `member:<id>` targets of the outbox ----------------------------------------------------------------

    async def member_account(self, channel: str, not_here: str) -> str:
        """The user id on this platform of the member in `member:<id>`; refused for good (saying `not_here`)
        when they have no account here."""
        user = await self.port.account_of(channel, self.platform)
        if user is None:
            raise DeliveryRefused(self.t(not_here))
        return user


def http_runner(app: web.Application) -> web.AppRunner:
    """The runner of an adapter's HTTP server, without aiohttp's access log. That log wrote a line per request
    (the peer's address, the path with its query string, the user agent): nothing an operator needs that the
    bot's own lines and `/metrics` do not say, and 13 % of the event loop's time per `/expertise` request
    (py-spy, bench/ack_latency.py, issue 19)."""
    return web.AppRunner(app, access_log=None)


def settle() -> None:
    """Start-up is done: what it built (modules, the schema, caches) is frozen out of the garbage collector's
    full passes, which otherwise scan all of it again and again. Under a burst of 2,000 presses those passes
    stopped the event loop for 110-150 ms each, 8-10 times (the acks waited; bench/votes.py, issue 19); after
    this a full pass scans only what came later. The count is in `/metrics` (`netwerkbot_gc_frozen_objects`)."""
    gc.collect()
    gc.freeze()


async def until_signal(work: asyncio.Future[Any] | None = None) -> None:
    """Wait for SIGINT or SIGTERM (or for `work` to end, whichever comes first); the handlers are removed after."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        waiting = asyncio.ensure_future(stop.wait())
        await asyncio.wait({waiting, *([work] if work is not None else [])}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
