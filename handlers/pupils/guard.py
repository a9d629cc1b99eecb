"""No pupil data in the network: text bound for storage or a channel passes `hold_back` first.

Every path that stores or posts a member's text (/idee, a 💡, an edited idea message, a question the
bot answers, a pitch, an agenda point, an expertise description) calls `hold_back(ctx, inp, text…)`
before it writes anything. A BSN is refused (a Dutch UserError: nothing is stored). Any other pupil
identifier gets a private warning with the reason and two buttons, and nothing is stored until the
author chose:

- "Aanpassen": the held-back text is dropped; the author gets it back, privately, to edit and send again.
- "Toch delen": the original input runs again, as it came in, with the check passed (`ctx.pupil_data_confirmed`).

While the author chooses, the input waits in a short-lived row (`pending_shares`): deleted when
they press either button; a row nobody chose for is deleted once older than an hour
(storage.governance.KEEP_PENDING) with the next warning anyone gets or by the daily housekeeping,
whichever comes first (so at most a day). A row is
used rather than the button's value because a pitch or an idea may be longer than Slack lets a button
carry (2,000 characters), and the Matrix adapter would copy a value into its own button store.
Logs never hold the text: the warning is logged by kinds only.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import datetime
from typing import Any

from bot.core.errors import UserError
from bot.core.inputs import Action, Actor, Change, ChannelMessage, Command, FormSubmission, Input, Reaction
from bot.core.reply import Actions, Audience, Button, Context, Outcome, Reply, Style, Text
from handlers.context import Feature, Features, HandlerContext
from handlers.pupils.check import screen
from storage.governance import KEEP_PENDING

log = logging.getLogger(__name__)

EDIT, SHARE = "leerling.aanpassen", "leerling.toch"


async def hold_back(ctx: HandlerContext, inp: Input, *texts: str) -> Reply | None:
    """None when the text may go on; a warning (after which the caller returns, storing nothing) otherwise."""
    if ctx.pupil_data_confirmed:
        return None
    found = screen("\n".join(t for t in texts if t), ctx.now.date())
    if not found:
        return None
    t = ctx.t
    log.info("pupil data (%s) in a %s from member %d", ",".join(found.kinds), type(inp).__name__, ctx.member.id)
    if found.refused:
        raise UserError(t("pupil.bsn_refused"))
    await ctx.repos.pending.prune(ctx.now - KEEP_PENDING)
    key = await ctx.repos.pending.put(ctx.member.id, encode(inp), ctx.now)
    ctx.coordinator_acts.clear()  # nothing was done yet: the coordinators' log gets it when it is shared
    reasons = ", ".join(t(f"pupil.kind.{kind}") for kind in found.kinds)
    return Reply((Text(t("pupil.warning", reasons=reasons)),
                  Actions((Button(t("pupil.edit"), EDIT, key), Button(t("pupil.share"), SHARE, key, Style.DANGER))),
                  Context(t("pupil.warning_hint"))), audience=Audience.ACTOR, private=True)


def encode(inp: Input) -> str:
    """The input as JSON, without its actor (whoever presses the button must be the same member anyway)."""
    data: dict[str, Any] = {"type": type(inp).__name__}
    for f in dataclasses.fields(inp):
        value = getattr(inp, f.name)
        if f.name in ("actor", "delivery_id"):
            continue
        if isinstance(value, Actor):
            value = dataclasses.asdict(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        elif f.name in ("values", "extra"):
            value = dict(value)
        data[f.name] = value
    return json.dumps(data, ensure_ascii=False)


def decode(payload: str, actor: Actor) -> Input:
    data = json.loads(payload)
    kind = data.pop("type")
    if kind == "Command":
        return Command(actor=actor, **data)
    if kind == "FormSubmission":
        return FormSubmission(actor=actor, **data)
    if kind == "ChannelMessage":
        return ChannelMessage(actor=actor, **{**data, "change": Change(data["change"])})
    if kind == "Reaction":
        author = data.pop("message_author")
        return Reaction(actor=actor, message_author=Actor(**author) if author else None, **data)
    raise ValueError(f"cannot hold back a {kind}")


def texts_of(inp: Input) -> list[str]:
    """What the author wrote, to give back for editing."""
    if isinstance(inp, Command):
        return [inp.text]
    if isinstance(inp, FormSubmission):
        return [v for v in inp.values.values() if v.strip()]
    if isinstance(inp, ChannelMessage):
        return [inp.text]
    if isinstance(inp, Reaction):
        return [inp.message_text]
    return []


class PupilGuard:
    """The two buttons of the warning. It runs a held-back input again through the registry's handlers."""

    def __init__(self, registry: Features) -> None:
        self.registry = registry

    def feature(self) -> Feature:
        f = Feature("pupils")
        f.action(EDIT, self.edit_pressed)
        f.action(SHARE, self.share_pressed)
        return f

    async def taken(self, ctx: HandlerContext, action: Action) -> Input:
        payload = await ctx.repos.pending.take(action.value, ctx.member.id)
        if payload is None:
            raise UserError(ctx.t("pupil.gone"))
        return decode(payload, ctx.actor)

    async def edit_pressed(self, ctx: HandlerContext, action: Action) -> Outcome:
        held = await self.taken(ctx, action)
        parts = [Text(ctx.t("pupil.edit_again")), *(Text(text) for text in texts_of(held))]
        return Reply(tuple(parts), replace_original=True, private=True)

    async def share_pressed(self, ctx: HandlerContext, action: Action) -> Outcome:
        held = await self.taken(ctx, action)
        confirmed = dataclasses.replace(ctx, pupil_data_confirmed=True)
        log.info("pupil-data warning overridden by member %d for a %s", ctx.member.id, type(held).__name__)
        if isinstance(held, Command):
            return await self.registry.commands[held.name](confirmed, held)
        if isinstance(held, FormSubmission):
            return await self.registry.forms[held.form_id](confirmed, held)
        if isinstance(held, ChannelMessage | Reaction):
            for listener in self.registry.listeners:
                if (outcome := await listener(confirmed, held)) is not None:
                    return outcome
            return Reply.text(ctx.t("pupil.shared"), audience=Audience.ACTOR)
        raise UserError(ctx.t("pupil.gone"))

