"""The terminal chat: you are one member, commands are typed, buttons are numbered, forms are asked.

It is the quickest way to try the bot and the adapter the end-to-end test drives through a
pseudo-terminal. Reading stdin runs in a daemon thread so the event loop stays free and Ctrl-C
can end the chat while a line is being waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from bot.adapters.base import AdapterBase, render_parts
from bot.core.inputs import Action, Actor, ChannelMessage, Command, FormSubmission
from bot.core.numbers import number_of
from bot.core.port import Port
from bot.core.reply import (
    Actions,
    Audience,
    Button,
    Context,
    FieldKind,
    Fields,
    File,
    Form,
    FormRejected,
    Heading,
    Item,
    Outcome,
    Reply,
    Text,
)
from bot.core.text import safe as safe  # named here too (bot/importer.py)
from config.i18n import Catalog

PLATFORM = "console"
STOP_WORDS = {"/stop", "/exit", "/quit", "stop", "exit"}
CANCEL = "/annuleer"
THREAD_MARK = "↳ "  # before a channel message that answers in a thread
FILES = Path("netwerkbot-bestanden")  # the files the bot gives (an export), beside where it runs


def render(reply: Reply, t: Catalog, first_number: int = 1,
           file_line: Callable[[File], str] | None = None) -> tuple[str, list[Button]]:
    """Plain text, and the buttons in the order of their numbers. A file is one line: by default its name,
    in the chat where it was saved (`file_line`)."""
    lines: list[str] = []
    buttons: list[Button] = []

    def numbered(row: tuple[Button, ...]) -> str:
        labels = []
        for button in row:
            buttons.append(button)
            labels.append(f"[{first_number + len(buttons) - 1}] {safe(button.label)}")
        return "  ".join(labels)

    def item(part: Item) -> None:
        handle = f" (@{safe(part.mention.name)})" if part.mention else ""
        lines.append(f"• {safe(part.title)}{handle}")
        lines.extend(f"    {safe(line)}" for line in part.lines)
        if part.buttons:
            lines.append(f"    {numbered(part.buttons)}")

    if reply.audience is Audience.GROUP:
        lines.append(t("console.group", names=", ".join(safe(m.name) for m in reply.group)))
    render_parts(reply.parts, {
        Heading: lambda part: lines.append(f"== {safe(part.text)} =="),
        Text: lambda part: lines.append(safe(part.text)),
        Context: lambda part: lines.append(f"  {safe(part.text)}"),
        Fields: lambda part: lines.extend(f"{safe(k)}: {safe(v)}" for k, v in part.pairs),
        Item: item,
        Actions: lambda part: lines.append(numbered(part.buttons)),
        File: lambda part: lines.append("📎 " + (file_line(part) if file_line else safe(part.title or part.name))),
    }, "the console")
    if reply.is_error:
        lines[0] = f"! {lines[0]}" if lines else "!"
    return "\n".join(lines), buttons


def save_file(folder: Path, file: File) -> Path:
    """Write `file` into `folder` (made when missing) under its own name, never over an earlier one."""
    folder.mkdir(parents=True, exist_ok=True)
    name = Path(safe(file.name).replace("\\", "/")).name.lstrip(".") or "bestand"
    stem, suffix = Path(name).stem, Path(name).suffix
    path = folder / name
    for number in itertools.count(2):
        try:
            with path.open("xb") as out:
                out.write(file.data)
            return path
        except FileExistsError:
            path = folder / f"{stem}-{number}{suffix}"
    raise AssertionError("unreachable")


async def read_line(read: Callable[[str], str], prompt: str) -> str | None:
    """One line from `read` (normally `input`), or None at the end of input.

    The line is read in a daemon thread rather than in the loop's executor: after Ctrl-C the
    thread is still blocked in `input()`, and `asyncio.run` waits for executor threads on its
    way out, so the process would hang until someone pressed Enter.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str | None] = loop.create_future()

    def deliver(line: str | None, error: BaseException | None) -> None:
        if future.done():  # cancelled meanwhile (Ctrl-C)
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(line)

    def work() -> None:
        line: str | None = None
        error: BaseException | None = None
        try:
            line = read(prompt)
        except EOFError:
            pass
        except BaseException as raised:  # handed to the waiting coroutine, not lost in the thread
            error = raised
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits for this line
            loop.call_soon_threadsafe(deliver, line, error)

    threading.Thread(target=work, name="console-input", daemon=True).start()
    return await future


class ConsoleChat(AdapterBase[None]):
    platform = PLATFORM

    def __init__(self, port: Port, actor: Actor, *, read: Callable[[str], str] = input,
                 write: Callable[[str], None] = print, files: Path = FILES) -> None:
        super().__init__(port)
        self.actor = actor
        self._read = read
        self._write = write
        self.files = files  # where the files the bot gives are written
        self.buttons: list[Button] = []
        self.said = 0  # lines said in the channel, numbered as their message ids

    def rendered(self, reply: Reply) -> tuple[str, list[Button]]:
        """The reply as text, its files written into `self.files` and shown by their path."""
        saved = {id(part): save_file(self.files, part) for part in reply.parts if isinstance(part, File)}
        return render(reply, self.t, file_line=lambda part: self.t("adapters.file_saved", path=str(saved[id(part)])))

    async def send(self, channel: str, reply: Reply) -> str:
        """What the bot posts by itself (a reminder, a vote), shown as a message in a channel, marked
        "↳ " when it answers in a thread (`reply.thread`); its buttons are the ones a number now presses."""
        text, buttons = self.rendered(reply)
        if buttons:
            self.buttons = buttons
        marker = THREAD_MARK if reply.thread else ""
        self._write(marker + self.t("console.channel_message", channel=safe(channel)) + "\n" + text)
        return channel

    async def update(self, channel: str, ref: str, reply: Reply) -> None:
        text, buttons = self.rendered(reply)
        if buttons:
            self.buttons = buttons
        self._write(self.t("console.channel_update", channel=safe(channel)) + "\n" + text)

    async def ask(self, prompt: str) -> str | None:
        return await read_line(self._read, prompt)

    async def run(self) -> None:
        while True:
            line = await self.ask("> ")
            if line is None or line.strip().lower() in STOP_WORDS:
                self._write(self.t("console.bye"))
                return
            await self.handle(line.strip())

    async def handle(self, line: str) -> None:
        if not line:
            return
        if (number := number_of(line)) is not None and not line.lstrip().startswith("#"):
            if not self.buttons:
                self._write("! " + self.t("console.no_buttons"))
                return
            if not 1 <= number <= len(self.buttons):
                self._write("! " + self.t("console.choose_number", max=len(self.buttons)))
                return
            button = self.buttons[number - 1]
            await self.show(await self.port.dispatch(
                Action(button.action_id, button.value, self.actor, channel=PLATFORM)))
            return
        if not line.startswith("/"):  # said in the channel: the bot may answer a question in it
            self.said += 1
            outcome = await self.port.dispatch(
                ChannelMessage(line, self.actor, PLATFORM, message_id=f"{PLATFORM}-{self.said}"))
            if outcome is None:
                self._write("! " + self.t("console.slash_please"))
            await self.show(outcome)
            return
        name, _, text = line[1:].partition(" ")
        await self.show(await self.port.dispatch(
            Command(name.lower(), text.strip(), self.actor, channel=PLATFORM)))

    async def show(self, outcome: Outcome) -> None:
        await self.deliver(outcome, None)

    async def deliver_reply(self, reply: Reply, origin: None) -> None:
        text, self.buttons = self.rendered(reply)
        self._write(text)

    async def deliver_form(self, form: Form, origin: None) -> None:
        await self.fill(form)

    async def deliver_rejected(self, rejected: FormRejected, origin: None) -> None:
        for message in rejected.errors.values():
            self._write(f"! {safe(message)}")

    async def fill(self, form: Form) -> None:
        """Ask field by field; on errors ask again only for the wrong fields."""
        self._write(f"== {safe(form.title)} ==  " + self.t("console.form_cancel", cancel=CANCEL))
        values: dict[str, str] = {}
        todo = list(form.fields)
        while todo:
            for field in todo:
                label = safe(field.label) + ("" if field.required else " " + self.t("console.optional"))
                hint = f" — {safe(field.hint)}" if field.hint else ""
                # a form opened from a button comes filled in (e.g. the topics just added): Enter keeps it
                shown = next((c.label for c in field.choices if c.value == field.initial), field.initial)
                initial = f" [{safe(shown)}]" if field.initial else ""
                if field.kind in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE):
                    self._write("  " + "  ".join(f"[{i}] {safe(c.label)}" for i, c in enumerate(field.choices, 1)))
                answer = await self.ask(f"{label}{hint}{initial}: ")
                if answer is None or answer.strip() == CANCEL:
                    self._write(self.t("console.cancelled"))
                    return
                typed = answer.strip()
                if not typed and field.initial:
                    answer = field.initial
                elif field.kind is FieldKind.MULTI_CHOICE:  # "1,3": the listed choices 1 and 3 (budget round)
                    picked = [number_of(p) for p in typed.replace(" ", ",").split(",") if p.strip()]
                    if all(p is not None and 0 < p <= len(field.choices) for p in picked):
                        answer = ",".join(field.choices[p - 1].value for p in picked if p is not None)
                if field.kind is FieldKind.CHOICE and (chosen := number_of(answer)) is not None:
                    index = chosen - 1
                    answer = field.choices[index].value if 0 <= index < len(field.choices) else answer
                values[field.name] = answer
            outcome = await self.port.dispatch(
                FormSubmission(form.form_id, dict(values), self.actor, state=form.state, channel=PLATFORM))
            if not isinstance(outcome, FormRejected):
                await self.show(outcome)
                return
            for message in outcome.errors.values():
                self._write(f"! {safe(message)}")
            todo = [f for f in form.fields if f.name in outcome.errors]


def stdout_write(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
