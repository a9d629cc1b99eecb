"""The dispatcher: one input in, one outcome out, inside one database transaction.

It resolves the actor to a member (creating the member on first contact), skips deliveries it
has seen before, answers `help` for every command, runs the handler, and turns errors into
Dutch replies: domain errors as they are, an unreachable database as a short notice, anything
else as an apology with a reference id that is also in the log with its traceback.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta

from bot.contexts import Features, InputContext, TimeContext
from bot.core.clock import Clock
from bot.core.context import HandlerContext
from bot.core.errors import FormErrors, UserError
from bot.core.inputs import Action, Actor, ChannelMessage, Command, FormSubmission, Input, MembershipChanged, Reaction
from bot.core.reply import Form, FormRejected, Outcome, Reply
from bot.core.together import Together
from bot.known import KnownMembers
from bot.logs import REFERENCE
from config.i18n import Catalog
from config.settings import Settings
from storage.changes import ALL, COORDINATOR, changes_since, pending
from storage.db import Database, has_written, is_conflict, is_unavailable
from storage.records import MemberRecord
from storage.repositories import SEARCH_STATE, Repositories

log = logging.getLogger(__name__)

CACHED_MEMBERS = 20_000
HELP_WORDS = frozenset({"help", "hulp", "?", "uitleg"})
PREFIXES = {"matrix": "!"}
SEEN = "netwerkbot.seen"  # session.info: the members the last input of a group saw (at most one)
UNSEEN_WRITTEN = "netwerkbot.unseen_written"  # session.info: the waiting last_seen_at this transaction wrote
STRANGER = 0  # the member id of `stranger` (no member has it)
SEEN_LATE = timedelta(minutes=10)  # a last_seen_at waits at most this long for a transaction that writes anyway


Claim = tuple[str, str]  # (platform, delivery id)


class _Replayed(Exception):
    """An input whose delivery was claimed only once it wrote: that delivery was handled before."""


class _Redo(Exception):
    """An input of a group failed: the group is rolled back, to be handled again with savepoints."""


def describe(inp: Input) -> str:
    """An input for the log: what and whose, never the values (a press on a secret vote is secret)."""
    what = {Command: "name", Action: "action_id", FormSubmission: "form_id"}.get(type(inp))
    name = getattr(inp, what) if what else ""
    return f"{type(inp).__name__} {name} from {inp.actor.platform}:{inp.actor.user_id} in {inp.channel or '-'}"


def logged_as(inp: Input, prefix: str) -> str:
    """A coordinator action for the log: the command as typed, the button or the form (never a message text)."""
    if isinstance(inp, Command):
        return f"{prefix}{inp.name} {inp.text}".strip()
    if isinstance(inp, Action):
        return f"{inp.action_id} {inp.value}".strip()
    if isinstance(inp, FormSubmission):
        return f"{inp.form_id} {inp.state}".strip()
    return type(inp).__name__


def summary(outcome: Outcome) -> str:
    if isinstance(outcome, Reply):
        return outcome.plain()
    if isinstance(outcome, Form):
        return outcome.title
    return ""


def stranger(actor: Actor) -> MemberRecord:
    """Who asks a question without being a member yet: nothing of them is stored, or needed, to answer it."""
    return MemberRecord(id=STRANGER, name=actor.name or actor.user_id, title="", email=None, role="",
                        organisation=None, identities=((actor.platform, actor.user_id),), profile_fetched_at=None)


def command_prefix(platform: str) -> str:
    return PREFIXES.get(platform, "/")


class Dispatcher:
    def __init__(self, registry: Features, db: Database, settings: Settings,
                 catalog: Catalog, clock: Clock) -> None:
        self.registry = registry
        self.db = db
        self.settings = settings
        self.t = catalog
        self.clock = clock
        # members by platform account, valid for one version of the directory (see SearchState)
        self._members = KnownMembers()
        self._members_version = -1
        # coordinator rights by platform account, valid for the same version (a change of coordinators raises it)
        self._rights: dict[tuple[str, str], bool] = {}
        self._catching = asyncio.Lock()  # one input at a time brings the kept members up to a newer version
        # a member being read, per account and version: who arrives meanwhile waits for that read
        self._reading: Together[tuple[tuple[str, str], int], MemberRecord | None] = Together()
        # told of every input: how long it took and the kind of error it ended in (bot/metrics.py)
        self.observed: Callable[[Input, float, str | None], None] | None = None
        self._seen: dict[int, date] = {}  # members whose last_seen_at this process wrote, and on which day
        # members seen today whose last_seen_at waits for the next transaction that writes anyway (at most
        # SEEN_LATE): a search answered in the ack writes nothing, not even this (issue 19)
        self._unseen: set[int] = set()
        self._unseen_since: datetime | None = None

    async def warm(self) -> None:
        """Before the first input: the members seen most recently (half as many as are kept at most, the rest
        left to those who come) and their rights kept, so that a person's first input after a start reads nothing
        of them (issue 19, item 1: one round trip on the ack's path on PostgreSQL). Kept under the version read
        before them, as `resolve_member` keeps one."""
        try:
            async with self.db.transaction() as repos:
                version, _ = await repos.expertise.search_state()
                found = await repos.members.recent(CACHED_MEMBERS // 2)
        except Exception as error:  # only a head start: each input reads its member itself
            log.warning("members not kept at start: %s", type(error).__name__)
            return
        if self._members_version != -1:
            return  # an input came first: it keeps what it reads itself
        self._members_version = version
        for account, (member, rights) in found.items():
            self._members.put(account, member)
            self._rights[account] = rights

    async def dispatch(self, inp: Input) -> Outcome:
        return await self._answer(inp, retry_later=False)

    async def dispatch_kept(self, inp: Input) -> Outcome:
        """As `dispatch`, but an unreachable database raises instead of being told, for a caller that kept
        the input and tries again (the inbox: an acknowledged press is not to be answered "try again")."""
        return await self._answer(inp, retry_later=True)

    async def _answer(self, inp: Input, *, retry_later: bool, within: Repositories | None = None) -> Outcome:
        """Every log line about this input carries its reference id (bot/logs.py), the apology too.
        `within`: the transaction of a group (`dispatch_kept_together`), else one of its own."""
        reference = f"{random.getrandbits(32):08x}"  # to find its log lines by (uuid4 costs a system call)
        token = REFERENCE.set(reference)
        started, failure = time.monotonic(), None
        try:
            return await (self._dispatch(inp) if within is None else self._in_savepoint(within, inp))
        except UserError as error:
            failure = "user"
            return Reply.text(error.message, error=True)
        except FormErrors as error:
            failure = "form"
            return FormRejected(error.errors)
        except Exception as error:
            if retry_later and within is not None and is_conflict(error):
                raise  # the group's transaction lost a deadlock: it is tried again as a whole
            if is_unavailable(error):
                failure = "database"
                if retry_later:
                    raise
                log.warning("database unreachable while handling %s: %s", type(inp).__name__, error)
                return Reply.text(self.t("errors.database_unavailable"), error=True)
            failure = "unexpected"
            log.exception("unexpected error (ref %s) handling %s", reference, describe(inp))
            return Reply.text(self.t("errors.unexpected", reference=reference), error=True)
        finally:
            REFERENCE.reset(token)
            if self.observed is not None:
                self.observed(inp, time.monotonic() - started, failure)

    async def membership(self, change: MembershipChanged) -> None:
        """Who is in a channel, as the platform says, to the features that keep circles; once per delivery."""
        now = self.clock.now()
        try:
            async with self.db.transaction() as repos:
                if change.delivery_id and not await repos.deliveries.claim(change.platform, change.delivery_id, now):
                    return
                for listener in self.registry.memberships:
                    await listener(TimeContext(repos, self.t, now, self.settings), change)
        except Exception:
            log.exception("could not keep the membership of %s:%s", change.platform, change.channel)

    async def _dispatch(self, inp: Input) -> Outcome:
        if not inp.actor.user_id:  # e.g. a deleted message Slack no longer says the author of: nobody to act for
            log.info("skipping %s: no user", describe(inp))
            return None
        now = self.clock.now()
        try:
            async with self.db.transaction() as repos:
                outcome, seen = await self._handle(repos, inp, now)
        except _Replayed:  # rolled back: what it wrote had been written by its first delivery
            log.info("skipping %s delivery %s: handled before", inp.actor.platform, inp.delivery_id)
            self._forget_members()
            return None
        self._saw(seen, now)
        self._unseen_written(repos)
        return outcome

    def _unseen_written(self, repos: Repositories) -> None:
        """After a commit: the waiting last_seen_at it wrote wait no longer."""
        self._unseen -= repos.session.info.pop(UNSEEN_WRITTEN, set())
        if not self._unseen:
            self._unseen_since = None

    async def _write_unseen(self, repos: Repositories, now: datetime, *, wrote: bool) -> None:
        """The waiting last_seen_at, when this transaction writes anyway or the first has waited SEEN_LATE."""
        if self._unseen and (wrote or (self._unseen_since is not None and now - self._unseen_since >= SEEN_LATE)):
            await repos.privacy.seen_many(self._unseen, now)
            repos.session.info[UNSEEN_WRITTEN] = set(self._unseen)

    async def dispatch_kept_together(self, inputs: Sequence[Input]) -> list[Outcome]:
        """Kept inputs that arrived together, handled in order in ONE transaction (group commit): a burst of
        ballots costs one commit per group instead of one per press, and the group's deliveries are claimed,
        and its members marked as seen, with one statement each. Should any input fail (a closed vote, a
        bug), the group is rolled back and handled again with a savepoint per input, so that one is rolled
        back alone and answered as `dispatch` would. An unreachable database raises for all of them
        (nothing is committed: the inbox tries again)."""
        try:
            return await self._together(inputs)
        except _Redo:
            return await self._together(inputs, savepoints=True)

    async def _together(self, inputs: Sequence[Input], *, savepoints: bool = False) -> list[Outcome]:
        now, started = self.clock.now(), time.monotonic()
        outcomes: list[Outcome] = []
        seen: set[int] = set()
        try:
            async with self.db.transaction() as repos:
                claimed = await self._claim_all(repos, inputs, now)
                await self._prime(repos, inputs)
                for inp in inputs:
                    # popped: the same delivery twice in one group (a replayed request kept twice) counts once
                    if not inp.actor.user_id or not claimed.pop((inp.actor.platform, inp.delivery_id),
                                                                 not inp.delivery_id):
                        if inp.actor.user_id:
                            log.info("skipping %s delivery %s: handled before", inp.actor.platform, inp.delivery_id)
                        outcomes.append(None)
                    elif savepoints:
                        outcomes.append(await self._answer(inp, retry_later=True, within=repos))
                        seen |= repos.session.info.pop(SEEN, set())
                    else:
                        try:
                            outcome, member = await self._handle(repos, inp, now, claimed=True, seen_later=True)
                        except Exception as error:
                            raise error if is_unavailable(error) or is_conflict(error) else _Redo() from error
                        outcomes.append(outcome)
                        seen |= {member} if member is not None else set()
                await repos.privacy.seen_many(seen | self._unseen, now)
                repos.session.info[UNSEEN_WRITTEN] = set(self._unseen)
        except Exception:
            self._forget_members()
            raise
        self._unseen_written(repos)
        for member_id in seen:
            self._saw(member_id, now)
        if self.observed is not None and not savepoints:  # with savepoints, `_answer` told it of each
            for inp in inputs:
                self.observed(inp, (time.monotonic() - started) / len(inputs), None)
        return outcomes

    async def _prime(self, repos: Repositories, inputs: Sequence[Input]) -> None:
        """The group's members and coordinator rights read with a statement each, not one per input."""
        for platform in {inp.actor.platform for inp in inputs}:
            users = {inp.actor.user_id for inp in inputs if inp.actor.platform == platform and inp.actor.user_id}
            await repos.coordinators.prime(platform, users)
            version, _ = await repos.expertise.search_state()  # as `resolve_member`: the version before the members
            if len(self._members) + len(users) >= CACHED_MEMBERS:
                self._members.clear()
            if version != self._members_version:
                await self._forget_changed(repos, version)
            unknown = {user for user in users if (platform, user) not in self._members}
            if unknown:
                found = await repos.members.by_identities(platform, unknown)
                if version == self._members_version:
                    self._members.update({(platform, user): member for user, member in found.items()})

    async def _claim_all(self, repos: Repositories, inputs: Sequence[Input], now: datetime) -> dict[Claim, bool]:
        """The group's deliveries claimed at once: per (platform, delivery id), whether it is new."""
        claimed: dict[Claim, bool] = {}
        for platform in {inp.actor.platform for inp in inputs}:
            ids = [inp.delivery_id for inp in inputs if inp.actor.platform == platform and inp.delivery_id]
            new = await repos.deliveries.claim_many(platform, ids, now)
            claimed |= {(platform, d): d in new for d in ids}
        return claimed

    async def _in_savepoint(self, repos: Repositories, inp: Input) -> Outcome:
        """One input of a group handled again after a failure: its own savepoint in the group's transaction."""
        try:
            async with repos.session.begin_nested():
                outcome, member = await self._handle(repos, inp, self.clock.now(), claimed=True, seen_later=True)
        except Exception:
            # what was read after a write rolled back here may be cached under a version never committed
            repos.session.info.pop(SEARCH_STATE, None)
            self._forget_members()
            raise
        repos.session.info[SEEN] = {member} if member is not None else set()
        return outcome

    def _forget_members(self) -> None:
        self._members.clear()
        self._rights.clear()
        self._members_version = -1

    async def _coordinator_rights(self, repos: Repositories, platform: str, user_id: str, version: int) -> bool:
        """Whether the account is a coordinator, kept in memory like the members: every committed change of
        coordinators, in any instance, raises the version and names `COORDINATOR` (storage.changes), upon
        which `_forget_changed` drops them all. Within a transaction that changes coordinators itself, and for
        what it read after such a change, the database alone is asked (nothing uncommitted is kept)."""
        account = (platform, user_id)
        if any(kind == COORDINATOR for kind, _ in pending(repos.session)):
            return await repos.coordinators.is_coordinator(platform, user_id)
        if (known := self._rights.get(account)) is not None:
            return known
        rights = await repos.coordinators.is_coordinator(platform, user_id)
        # kept under the version this transaction read, unless another input has moved on meanwhile
        if version == self._members_version and not any(kind == COORDINATOR for kind, _ in pending(repos.session)):
            if len(self._rights) >= CACHED_MEMBERS:
                self._rights.clear()
            self._rights[account] = rights
        return rights

    def _saw(self, member_id: int | None, now: datetime) -> None:
        if member_id is not None:
            if len(self._seen) >= CACHED_MEMBERS:
                self._seen.clear()
            self._seen[member_id] = now.date()

    async def _handle(self, repos: Repositories, inp: Input, now: datetime, *, claimed: bool = False,
                      seen_later: bool = False) -> tuple[Outcome, int | None]:
        """The input inside the caller's transaction; with the member whose last_seen_at is due today, if any
        (written here, unless `seen_later`). `claimed`: its delivery id was claimed by the caller.

        A delivery is claimed before it is handled, so a retry or replay finds it taken; except an input the
        platform never delivers again by itself (`redelivered` False: a Slack slash command or form, answered
        in the response to its own request), which is claimed only if its handling wrote something: a search
        or a listing then writes nothing at all, and a replayed request that would write again is rolled back
        when its claim is found taken (`_Replayed`)."""
        actor = inp.actor
        await repos.expertise.search_state()  # the committed version before anything begins the transaction:
        # read in-thread (SQLite) or in autocommit (PostgreSQL), storage.committed `CommittedState`
        lazy = not claimed and bool(inp.delivery_id) and not getattr(inp, "redelivered", True)
        if not claimed and not lazy and inp.delivery_id \
                and not await repos.deliveries.claim(actor.platform, inp.delivery_id, now):
            log.info("skipping %s delivery %s: handled before", actor.platform, inp.delivery_id)
            return None, None
        member = await self.resolve_member(repos, inp)
        version, _ = await repos.expertise.search_state()  # as `resolve_member` read it: kept in the session
        if self.settings.is_coordinator(actor.platform, actor.user_id):  # the environment seeds, once
            await repos.coordinators.seed(actor.platform, actor.user_id, now)
        # read before anything is written: until then, beside the session (storage/accounts.py)
        rights = await self._coordinator_rights(repos, actor.platform, actor.user_id, version)
        seen = member.id != STRANGER and self._seen.get(member.id) != now.date()
        if seen and not seen_later and lazy:  # once a day per member: who has not been seen for long is listed
            self._unseen.add(member.id)  # (PRIVACY.md); for an input that may write nothing, with the next write
            self._unseen_since = self._unseen_since or now
        elif seen and not seen_later:
            await repos.privacy.seen(member.id, now)
        # (an InputContext made by its class: a call of the generic alias costs typing's bookkeeping every time)
        ctx = HandlerContext(repos=repos, member=member, actor=actor, t=self.t, now=now, settings=self.settings,
                             is_coordinator=rights, prefix=command_prefix(actor.platform))
        outcome = await self._route(ctx, inp)
        if ctx.coordinator_acts:  # it needed coordinator rights and it succeeded: in the log
            await repos.coordinators.log(member.id, logged_as(inp, ctx.prefix), summary(outcome), now)
        if not claimed:
            wrote = await has_written(repos.session)
            if lazy and wrote and not await repos.deliveries.claim(actor.platform, inp.delivery_id, now):
                raise _Replayed
            await self._write_unseen(repos, now, wrote=wrote)
        return outcome, member.id if seen else None

    async def _route(self, ctx: InputContext, inp: Input) -> Outcome:
        if isinstance(inp, Command):
            handler = self.registry.commands.get(inp.name)
            if handler is None:
                raise UserError(self.t("errors.unknown_command", prefix=ctx.prefix, command=inp.name))
            if inp.text.strip().lower() in HELP_WORDS:
                return Reply.text(self.t(f"help.{inp.name}", p=ctx.prefix))
            return await handler(ctx, inp)
        if isinstance(inp, Action):
            action = self.registry.actions.get(inp.action_id)
            if action is None:
                raise UserError(self.t("errors.unknown_action"))
            return await action(ctx, inp)
        if isinstance(inp, FormSubmission):
            form = self.registry.forms.get(inp.form_id)
            if form is None:
                raise UserError(self.t("errors.unknown_action"))
            return await form(ctx, inp)
        if isinstance(inp, ChannelMessage | Reaction):
            for listener in self.registry.listeners:  # the first feature that answers has the message
                if (outcome := await listener(ctx, inp)) is not None:
                    return outcome
            return None
        raise TypeError(f"unknown input {inp!r}")

    async def _forget_changed(self, repos: Repositories, version: int) -> None:
        """Only the members a change since the version held touched (storage.changes): one named
        member's new name costs the others nothing. One input at a time: who arrived meanwhile with the
        same version finds it done (50 askers after a change read what changed once, not 50 times)."""
        async with self._catching:
            if version != self._members_version:
                await self._catch_up(repos, version)

    async def _catch_up(self, repos: Repositories, version: int) -> None:
        changes = await changes_since(repos.session, self._members_version, version) \
            if self._members_version >= 0 and self._members else None
        if changes is None or any(c.kind in (ALL, COORDINATOR) for c in changes):
            self._rights.clear()
        if changes is None or any(c.kind == ALL for c in changes):
            self._members.clear()
        else:
            self._members.forget((c.kind, c.ref) for c in changes)
        self._members_version = version

    async def _read_member(self, repos: Repositories, account: tuple[str, str], version: int) -> MemberRecord | None:
        """The member of an account from the database; inputs of the same account arriving together at the
        same version wait for one read (after a rename, 50 askers read 10 members, not 50)."""
        return await self._reading.once((account, version), lambda: repos.members.by_identity(*account))

    def forget_accounts(self, actors: Iterable[Actor]) -> None:
        """These people's members are read again at their next input (their profile was just looked at: a new
        name would make the version read name them anyway, and then their read would wait for it)."""
        self._members.drop((actor.platform, actor.user_id) for actor in actors)

    def knows(self, actor: Actor) -> bool:
        """Whether the member of this account is held here (at the version last read): else its read may go out
        with the version read (`Bot.expect_input`)."""
        return (actor.platform, actor.user_id) in self._members

    def is_question(self, inp: Input) -> bool:
        """Whether the input only asks (its feature says so of the command's text; `help` always does)."""
        if not isinstance(inp, Command) or (asks := self.registry.questions.get(inp.name)) is None:
            return False
        try:
            return inp.text.strip().lower() in HELP_WORDS or asks(inp.text, self.t)
        except UserError:  # the handler says what is wrong with the text, to a member as ever
            return False

    async def resolve_member(self, repos: Repositories, inp: Input) -> MemberRecord:
        """The member behind the actor; a platform user becomes a member on first contact.

        Every write to members, their accounts and organisations raises the version that also
        guards cached searches, in any instance, and names the member or organisation it changed;
        so a member known at this version is taken from memory, the version read (which the search
        needs anyway) is the only round trip, and after a change only the members it named are
        read again.
        The version is read before the member, so nothing older than it is kept under it.
        """
        actor = inp.actor
        account = (actor.platform, actor.user_id)
        version, _ = await repos.expertise.search_state()
        if len(self._members) >= CACHED_MEMBERS:
            self._members.clear()
        if version != self._members_version:
            await self._forget_changed(repos, version)
        member = self._members.get(account) or await self._read_member(repos, account, version)
        if member is not None:
            if version == self._members_version:  # (not when the cache holds a newer version than was read)
                self._members.put(account, member)
            return member
        if self.is_question(inp):  # a question of a person who is no member yet: answered without making one
            return stranger(actor)  # (named by the profile refresh after the answer: bot/adapters/base.py)
        # not kept: should this input's transaction roll back, the new member was never there
        return await repos.members.of_account(*account, name=actor.name, now=self.clock.now())

