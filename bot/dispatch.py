"""The dispatcher: one input in, one outcome out, inside one database transaction.

It resolves the actor to a member (creating the member on first contact), skips deliveries it
has seen before, answers `help` for every command, runs the handler, and turns errors into
Dutch replies: domain errors as they are, an unreachable database as a short notice, anything
else as an apology with a reference id that is also in the log with its traceback.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import date

from bot.contexts import Features, InputContext, TimeContext
from bot.core.clock import Clock
from bot.core.errors import FormErrors, UserError
from bot.core.inputs import Action, ChannelMessage, Command, FormSubmission, Input, MembershipChanged, Reaction
from bot.core.reply import Form, FormRejected, Outcome, Reply
from bot.logs import REFERENCE
from config.i18n import Catalog
from config.settings import Settings
from storage.changes import ALL, MEMBER, ORGANISATION, changes_since
from storage.db import Database, is_unavailable
from storage.records import MemberRecord
from storage.repositories import Repositories

log = logging.getLogger(__name__)

CACHED_MEMBERS = 20_000
HELP_WORDS = frozenset({"help", "hulp", "?", "uitleg"})
PREFIXES = {"matrix": "!"}


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
        self._members: dict[tuple[str, str], MemberRecord] = {}
        self._members_version = -1
        # told of every input: how long it took and the kind of error it ended in (bot/metrics.py)
        self.observed: Callable[[Input, float, str | None], None] | None = None
        self._seen: dict[int, date] = {}  # members whose last_seen_at this process wrote, and on which day

    async def dispatch(self, inp: Input) -> Outcome:
        return await self._answer(inp, retry_later=False)

    async def dispatch_kept(self, inp: Input) -> Outcome:
        """As `dispatch`, but an unreachable database raises instead of being told, for a caller that kept
        the input and tries again (the inbox: an acknowledged press is not to be answered "try again")."""
        return await self._answer(inp, retry_later=True)

    async def _answer(self, inp: Input, *, retry_later: bool) -> Outcome:
        """Every log line about this input carries its reference id (bot/logs.py), the apology too."""
        reference = uuid.uuid4().hex[:8]
        token = REFERENCE.set(reference)
        started, failure = time.monotonic(), None
        try:
            return await self._dispatch(inp)
        except UserError as error:
            failure = "user"
            return Reply.text(error.message, error=True)
        except FormErrors as error:
            failure = "form"
            return FormRejected(error.errors)
        except Exception as error:
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
        now = self.clock.now()
        actor = inp.actor
        if not actor.user_id:  # e.g. a deleted message Slack no longer says the author of: nobody to act for
            log.info("skipping %s: no user", describe(inp))
            return None
        async with self.db.transaction() as repos:
            if inp.delivery_id and not await repos.deliveries.claim(actor.platform, inp.delivery_id, now):
                log.info("skipping %s delivery %s: handled before", actor.platform, inp.delivery_id)
                return None
            member = await self.resolve_member(repos, inp)
            seen = self._seen.get(member.id) != now.date()
            if seen:  # once a day per member: who has not been seen for long is listed (PRIVACY.md)
                await repos.privacy.seen(member.id, now)
            if self.settings.is_coordinator(actor.platform, actor.user_id):  # the environment seeds, once
                await repos.coordinators.seed(actor.platform, actor.user_id, now)
            ctx = InputContext(
                repos=repos, member=member, actor=actor, t=self.t, now=now, settings=self.settings,
                is_coordinator=await repos.coordinators.is_coordinator(actor.platform, actor.user_id),
                prefix=command_prefix(actor.platform),
            )
            outcome = await self._route(ctx, inp)
            if ctx.coordinator_acts:  # it needed coordinator rights and it succeeded: in the log
                await repos.coordinators.log(member.id, logged_as(inp, ctx.prefix), summary(outcome), now)
        if seen:
            if len(self._seen) >= CACHED_MEMBERS:
                self._seen.clear()
            self._seen[member.id] = now.date()
        return outcome

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
        member's new name costs the others nothing."""
        changes = await changes_since(repos.session, self._members_version, version) \
            if self._members_version >= 0 and self._members else None
        if changes is None or any(c.kind == ALL for c in changes):
            self._members.clear()
        else:
            members = {c.ref for c in changes if c.kind == MEMBER}
            organisations = {c.ref for c in changes if c.kind == ORGANISATION}
            for account in [a for a, m in self._members.items() if m.id in members
                            or (m.organisation is not None and m.organisation.id in organisations)]:
                del self._members[account]
        self._members_version = version

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
        member = self._members.get(account) or await repos.members.by_identity(*account)
        if member is not None:
            self._members[account] = member
            return member
        # not kept: should this input's transaction roll back, the new member was never there
        return await repos.members.of_account(*account, name=actor.name, now=self.clock.now())

