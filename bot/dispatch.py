"""The dispatcher: one input in, one outcome out, inside one database transaction.

It resolves the actor to a member (creating the member on first contact), skips deliveries it
has seen before, answers `help` for every command, runs the handler, and turns errors into
Dutch replies: domain errors as they are, an unreachable database as a short notice, anything
else as an apology with a reference id that is also in the log with its traceback.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from bot.core.clock import Clock
from bot.core.errors import FormErrors, UserError
from bot.core.inputs import Action, ChannelMessage, Command, FormSubmission, Input, Reaction
from bot.core.registry import Registry
from bot.core.reply import FormRejected, Outcome, Reply
from config.i18n import Catalog
from config.settings import Settings
from handlers.context import HandlerContext
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


def command_prefix(platform: str) -> str:
    return PREFIXES.get(platform, "/")


class Dispatcher:
    def __init__(self, registry: Registry[HandlerContext], db: Database, settings: Settings,
                 catalog: Catalog, clock: Clock) -> None:
        self.registry = registry
        self.db = db
        self.settings = settings
        self.t = catalog
        self.clock = clock
        # members by platform account, valid for one version of the directory (see SearchState)
        self._members: dict[tuple[str, str], MemberRecord] = {}
        self._members_version = -1
        self.queued: Callable[[], None] | None = None  # told after a commit that queued outbox messages
        self.touched: Callable[[set[str]], None] | None = None  # told which sent messages to refresh

    async def dispatch(self, inp: Input) -> Outcome:
        return await self._answer(inp, retry_later=False)

    async def dispatch_kept(self, inp: Input) -> Outcome:
        """As `dispatch`, but an unreachable database raises instead of being told, for a caller that kept
        the input and tries again (the inbox: an acknowledged press is not to be answered "try again")."""
        return await self._answer(inp, retry_later=True)

    async def _answer(self, inp: Input, *, retry_later: bool) -> Outcome:
        try:
            return await self._dispatch(inp)
        except UserError as error:
            return Reply.text(error.message, error=True)
        except FormErrors as error:
            return FormRejected(error.errors)
        except Exception as error:
            if is_unavailable(error):
                if retry_later:
                    raise
                log.warning("database unreachable while handling %s: %s", type(inp).__name__, error)
                return Reply.text(self.t("errors.database_unavailable"), error=True)
            reference = uuid.uuid4().hex[:8]
            log.exception("unexpected error (ref %s) handling %s", reference, describe(inp))
            return Reply.text(self.t("errors.unexpected", reference=reference), error=True)

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
            ctx = HandlerContext(
                repos=repos, member=member, actor=actor, t=self.t, now=now, settings=self.settings,
                is_coordinator=self.settings.is_coordinator(actor.platform, actor.user_id),
                prefix=command_prefix(actor.platform),
            )
            outcome = await self._route(ctx, inp)
        if repos.outbox.queued and self.queued is not None:
            self.queued()
        if repos.outbox.touched and self.touched is not None:
            self.touched(repos.outbox.touched)
        return outcome

    async def _route(self, ctx: HandlerContext, inp: Input) -> Outcome:
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

    async def resolve_member(self, repos: Repositories, inp: Input) -> MemberRecord:
        """The member behind the actor; a platform user becomes a member on first contact.

        Every write to members, their accounts and organisations raises the version that also
        guards cached searches, in any instance; so a member known at this version is taken
        from memory, and the version read (which the search needs anyway) is the only round trip.
        The version is read before the member, so nothing older than it is kept under it.
        """
        actor = inp.actor
        account = (actor.platform, actor.user_id)
        version, _ = await repos.expertise.search_state()
        if version != self._members_version or len(self._members) >= CACHED_MEMBERS:
            self._members.clear()
            self._members_version = version
        member = self._members.get(account) or await repos.members.by_identity(*account)
        if member is not None:
            self._members[account] = member
            return member
        # not kept: should this input's transaction roll back, the new member was never there
        return await repos.members.of_account(*account, name=actor.name, now=self.clock.now())

