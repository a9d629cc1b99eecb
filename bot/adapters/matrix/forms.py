"""Forms on Matrix: a short dialog in the person's direct room with the bot, one field at a time.

Each question shows the field's label, hint and choices (answered by number or by name); `ok` keeps
a proposed value, `leeg` leaves an optional field empty, `stop` cancels. When the handler refuses
the submission, only the wrong fields are asked again, each with its Dutch error. Dialogs live in
memory: after a restart the person is told to start the command again (bot/adapters/matrix/adapter.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.core.inputs import Actor, FormSubmission
from bot.core.reply import Context, FieldKind, Form, FormField, FormRejected, Heading, Outcome, Reply, Text
from bot.core.text import fold
from config.i18n import Catalog

STOP_WORDS = frozenset({"stop", "!stop", "annuleer", "!annuleer"})
EMPTY_WORDS = frozenset({"leeg", "-"})
KEEP_WORDS = frozenset({"ok", "oké"})

Post = Callable[[str, Reply], Awaitable[object]]
Submit = Callable[[FormSubmission], Awaitable[Outcome]]


@dataclass
class Dialog:
    form: Form
    channel: str  # where the form was asked for: the submission's channel
    room_id: str  # the direct room it is filled in
    todo: list[FormField]
    values: dict[str, str] = field(default_factory=dict)
    index: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # the handler's Dutch errors of the fields asked again


def question(dialog: Dialog, t: Catalog, problem: str = "") -> Reply:
    f = dialog.todo[dialog.index]
    problem = problem or dialog.errors.get(f.name, "")
    parts: list[Heading | Text | Context] = []
    if problem:
        parts.append(Text("⚠️ " + problem))
    parts.append(Text(f.label + ("" if f.required else " " + t("matrix.optional"))))
    if f.hint:
        parts.append(Context(f.hint))
    if f.kind in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE):
        parts.append(Text("\n".join(f"{i}. {c.label}" for i, c in enumerate(f.choices, 1))))
    if f.initial:
        shown = next((c.label for c in f.choices if c.value == f.initial), f.initial)
        parts.append(Context(t("matrix.form_keep", value=shown)))
    return Reply(tuple(parts))


def value_of(f: FormField, text: str) -> str | None:
    """What an answer means for the field; None for a choice that is none of the choices."""
    if fold(text) in KEEP_WORDS and f.initial:
        return f.initial
    if fold(text) in EMPTY_WORDS and not f.required:
        return ""
    if f.kind is FieldKind.CHOICE:
        return next((c.value for i, c in enumerate(f.choices, 1)
                     if text.strip() == str(i) or fold(text) in (fold(c.value), fold(c.label))), None)
    if f.kind is FieldKind.MULTI_CHOICE:  # "1,3,4": the listed choices 1, 3 and 4 (budget round)
        picked = [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]
        if not all(p.isdigit() and 0 < int(p) <= len(f.choices) for p in picked):
            return None
        return ",".join(f.choices[int(p) - 1].value for p in picked)
    return text


class FormDialogs:
    def __init__(self, t: Catalog, post: Post, submit: Submit) -> None:
        self.t = t
        self.post = post
        self.submit = submit
        self.open: dict[str, Dialog] = {}  # by Matrix user id

    def of(self, user_id: str, room_id: str) -> Dialog | None:
        dialog = self.open.get(user_id)
        return dialog if dialog is not None and dialog.room_id == room_id else None

    async def cancel(self, user_id: str) -> bool:
        dialog = self.open.pop(user_id, None)
        if dialog is not None:
            await self.post(dialog.room_id, Reply.text(self.t("matrix.form_cancelled")))
        return dialog is not None

    async def start(self, form: Form, user_id: str, room_id: str, channel: str) -> None:
        dialog = Dialog(form, channel, room_id, list(form.fields))
        self.open[user_id] = dialog
        await self.post(room_id, Reply((Heading(form.title), Context(self.t("matrix.form_intro")))))
        await self.post(room_id, question(dialog, self.t))

    async def answer(self, dialog: Dialog, actor: Actor, text: str, event_id: str) -> Outcome:
        """Take one answer; the handler's outcome once the form is complete and accepted, else None."""
        if fold(text) in STOP_WORDS:
            await self.cancel(actor.user_id)
            return None
        f = dialog.todo[dialog.index]
        value = value_of(f, text)
        if value is None:
            await self.post(dialog.room_id, question(dialog, self.t, self.t("matrix.choose_number",
                                                                             max=len(f.choices))))
            return None
        dialog.values[f.name] = value
        dialog.index += 1
        if dialog.index < len(dialog.todo):
            await self.post(dialog.room_id, question(dialog, self.t))
            return None
        outcome = await self.submit(FormSubmission(dialog.form.form_id, dict(dialog.values), actor,
                                                   state=dialog.form.state, channel=dialog.channel,
                                                   delivery_id=event_id))
        if isinstance(outcome, FormRejected) and outcome.errors:
            dialog.todo = [x for x in dialog.form.fields if x.name in outcome.errors] or dialog.todo
            dialog.index = 0
            dialog.errors = dict(outcome.errors)
            await self.post(dialog.room_id, Reply.text(self.t("matrix.form_again"), error=True))
            await self.post(dialog.room_id, question(dialog, self.t))
            return None
        self.open.pop(actor.user_id, None)
        return outcome
