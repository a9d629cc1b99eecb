"""Teams rendering: a `Reply` as an Adaptive Card, a `Form` as a card with inputs, and what a press carries.

Pure functions. Every user-supplied string goes through `escape` (Teams renders a Markdown subset in
TextBlocks); the only mentions are those of `Item.mention`, as `<at>…</at>` with a Teams mention entity
naming the user id. Buttons are `Action.Execute` (Universal Actions): a press arrives as an
`adaptiveCard/action` invoke whose answer can go to the presser alone, and a form's inputs travel with
its submit button. Parts are rendered through one table by type (bot/adapters/base.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from bot.adapters.base import render_parts
from bot.core.reply import (
    Actions,
    Button,
    Choice,
    Context,
    FieldKind,
    Fields,
    File,
    Form,
    FormField,
    Heading,
    Item,
    Reply,
    Style,
    Text,
)
from config.i18n import Catalog

PLATFORM = "teams"
CARD = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.4"  # Action.Execute and its invoke answers (Teams supports 1.5 on desktop, 1.4 everywhere)
FORM_VERB = "netwerkbot.form"
OWN_FORM = "netwerkbot_form"  # the form itself, so a refused submit can show it again
OWN_KEYS = frozenset({"form_id", "state", OWN_FORM, "verb", "action_id", "value"})
MAX_ACTIONS = 6  # Teams shows at most 6 buttons in one ActionSet
MAX_TEXT = 4000
MAX_LABEL = 80
ELLIPSIS = "…"
_MARKDOWN = re.compile(r"([\\`*_\[\]<>~])")  # emphasis, links, code, and `<at>` (a mention's markup)
_LINE_START = re.compile(r"^(\s*)([-+#]|\d+\.)", re.MULTILINE)  # lists and headings


def escape(text: str) -> str:
    """User text made inert in a TextBlock: no Markdown (`**`, `[link](…)`, lists), no `<at>` mention."""
    escaped = _MARKDOWN.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: m.group(1) + (m.group(2)[:-1] + "\\." if m.group(2).endswith(".")
                                                   else "\\" + m.group(2)), escaped)


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + ELLIPSIS


def block(escaped: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": escaped[:MAX_TEXT], "wrap": True, **style}


def button(part: Button) -> dict[str, Any]:
    action: dict[str, Any] = {"type": "Action.Execute", "title": shorten(part.label, MAX_LABEL),
                              "verb": part.action_id, "data": {"action_id": part.action_id, "value": part.value}}
    if part.style is not Style.DEFAULT:
        action["style"] = "positive" if part.style is Style.PRIMARY else "destructive"
    return action


def action_sets(buttons: tuple[Button, ...]) -> list[dict[str, Any]]:
    return [{"type": "ActionSet", "actions": [button(b) for b in buttons[start:start + MAX_ACTIONS]]}
            for start in range(0, len(buttons), MAX_ACTIONS)]


def mention_text(name: str) -> str:
    return f"<at>{escape(name)}</at>"


def card(reply: Reply, t: Catalog) -> dict[str, Any]:
    """The reply as an Adaptive Card (its `fallbackText` the plain summary); mentions as Teams entities."""
    body: list[dict[str, Any]] = []
    entities: list[dict[str, Any]] = []
    warning = [reply.is_error]

    def heading(part: Heading) -> None:
        if part.text.strip():
            body.append(block(escape(part.text), weight="Bolder", size="Medium"))

    def text(part: Text) -> None:
        body.append(block(escape(part.text), **({"color": "Attention"} if warning[0] else {})))
        warning[0] = False

    def fields(part: Fields) -> None:
        body.append({"type": "FactSet", "facts": [{"title": escape(k), "value": escape(v)} for k, v in part.pairs]})

    def item(part: Item) -> None:
        title = f"**{escape(part.title.strip())}**"
        user = part.mention.user_id(PLATFORM) if part.mention else None
        if part.mention is not None and user:
            title += " " + mention_text(part.mention.name)
            entities.append({"type": "mention", "text": mention_text(part.mention.name),
                             "mentioned": {"id": user, "name": part.mention.name}})
        items = [block(title), *(block(escape(line), spacing="None") for line in part.lines)]
        body.append({"type": "Container", "separator": True, "items": [*items, *action_sets(part.buttons)]})

    def context(part: Context) -> None:
        if part.text.strip():
            body.append(block(escape(part.text), isSubtle=True, size="Small"))

    def file(part: File) -> None:
        body.append(block(escape(t("teams.file_not_here", name=part.name)), isSubtle=True, size="Small"))

    render_parts(reply.parts, {Heading: heading, Text: text, Fields: fields, Item: item,
                               Actions: lambda part: body.extend(action_sets(part.buttons)), Context: context,
                               File: file}, "Teams")
    found: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body,
                             "fallbackText": shorten(reply.plain(), MAX_TEXT)}
    if entities:
        found["msteams"] = {"entities": entities, "width": "Full"}
    return found


def attachment(content: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CARD, "content": content}


# -- forms ------------------------------------------------------------------------------------------------


def _input(field_name: str, kind: FieldKind, *, label: str, required: bool, initial: str, max_length: int,
           choices: list[dict[str, str]], error: str) -> dict[str, Any]:
    element: dict[str, Any] = {"id": field_name, "label": label, "isRequired": required}
    if kind in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE):
        element |= {"type": "Input.ChoiceSet", "choices": choices, "isMultiSelect": kind is FieldKind.MULTI_CHOICE,
                    "style": "expanded" if kind is FieldKind.MULTI_CHOICE else "compact"}
    else:
        element |= {"type": "Input.Text", "isMultiline": kind is FieldKind.LONG_TEXT, "maxLength": max_length}
    if initial:
        element["value"] = initial
    if error:
        element["errorMessage"] = error
    return element


def form_card(form: Form, t: Catalog, errors: Mapping[str, str] | None = None,
              values: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A form as a card with inputs; after a refused submission the same card with each field's error
    (shown in red above it, the typed values kept)."""
    errors = dict(errors or {})
    shown = {f.name for f in form.fields}
    stray = [error for name, error in errors.items() if name not in shown]  # an error about no field: on top
    body: list[dict[str, Any]] = [block(escape(form.title), weight="Bolder", size="Medium")]
    if stray:
        body.append(block(escape(" ".join(stray)), color="Attention"))
    for f in form.fields:
        error = errors.get(f.name, "")
        if error:
            body.append(block(escape(error), color="Attention", spacing="Medium"))
        initial = (values or {}).get(f.name, f.initial)
        body.append(_input(f.name, f.kind, label=f.label, required=f.required, initial=initial,
                           max_length=max(1, f.max_length),
                           choices=[{"title": c.label, "value": c.value} for c in f.choices], error=error))
        if f.hint:
            body.append(block(escape(f.hint), isSubtle=True, size="Small", spacing="None"))
    submit = {"type": "Action.Execute", "title": shorten(form.submit_label, MAX_LABEL), "verb": FORM_VERB,
              "data": {"form_id": form.form_id, "state": form.state, OWN_FORM: json.dumps(asdict(form))}}
    return {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body, "actions": [submit],
            "fallbackText": shorten(form.title, MAX_TEXT)}


def form_values(data: Mapping[str, Any]) -> dict[str, str]:
    """The inputs a submit carried (Teams merges them into the action's data), without our own keys."""
    return {str(k): str(v) for k, v in data.items() if k not in OWN_KEYS and isinstance(v, str | int)}


def form_of(data: Mapping[str, Any]) -> Form | None:
    """The form a submit came from (its submit button carries it), to show it again with its errors;
    only its look: what the form does is decided by its id, as for any submission."""
    try:
        found = json.loads(str(data.get(OWN_FORM) or ""))
        fields = tuple(FormField(str(f["name"]), str(f["label"]), FieldKind(f["kind"]), bool(f["required"]),
                                 str(f["hint"]), str(f["initial"]), int(f["max_length"]),
                                 tuple(Choice(str(c["value"]), str(c["label"])) for c in f["choices"]))
                       for f in found["fields"])
        return Form(str(found["form_id"]), str(found["title"]), fields, str(found["submit_label"]),
                    str(found["state"]))
    except (ValueError, KeyError, TypeError):
        return None
