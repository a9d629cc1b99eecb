"""Slack rendering: a `Reply` as Block Kit, a `Form` as a modal, and a submitted modal's values.

Pure functions: every user-supplied string goes through `escape`; the only mentions are those of
`Item.mention`. Parts are rendered through one table by type (bot/adapters/base.py): a part this
module has no entry for is an error naming it, never a silently empty message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from bot.adapters.base import render_parts
from bot.core.reply import (
    Actions,
    Audience,
    Button,
    Context,
    FieldKind,
    Fields,
    File,
    Form,
    FormField,
    FormRejected,
    Heading,
    Item,
    Reply,
    Style,
    Text,
)
from config.i18n import Catalog

PLATFORM = "slack"

# Block Kit limits (https://api.slack.com/reference/block-kit): beyond them Slack refuses the
# whole message with `invalid_blocks`, so the renderer keeps inside them.
MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_FIELDS = 10
MAX_FIELD = 2000
MAX_HEADER = 150
MAX_ELEMENTS = 25
MAX_LABEL = 75
MAX_VALUE = 2000
MAX_ACTION_ID = 255
MAX_MODAL_TITLE = 24
MAX_INPUT = 3000
MAX_OPTION_VALUE = 150
MAX_OPTIONS = 100
ELLIPSIS = "…"
INPUT_ACTION = "value"  # the action id of the one element in each modal input block
USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def escape(text: str) -> str:
    """User text made inert in Slack's mrkdwn: no `<!channel>`, `<@U…>` or `<http://x|disguised link>`."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int) -> str:
    """Plain text (not escaped) of at most `limit` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[:limit - 1] + ELLIPSIS


def _safe_cut(escaped: str, limit: int) -> int:
    """Where to cut escaped text at most `limit` long without splitting an entity like `&amp;`."""
    amp = escaped.rfind("&", max(0, limit - 4), limit)
    return amp if amp != -1 and ";" not in escaped[amp:limit] else limit


def clip(escaped: str, limit: int) -> str:
    """Escaped text of at most `limit` characters, ending in "…" when cut."""
    if len(escaped) <= limit:
        return escaped
    return escaped[:_safe_cut(escaped, limit - 1)] + ELLIPSIS


def pieces(escaped: str, limit: int = MAX_SECTION) -> list[str]:
    """Escaped text in pieces of at most `limit`, cut at line ends where a line allows it."""
    found: list[str] = []
    while len(escaped) > limit:
        newline = escaped.rfind("\n", 0, limit + 1)
        if newline > 0:
            found.append(escaped[:newline])
            escaped = escaped[newline + 1:]
        else:
            cut = _safe_cut(escaped, limit)
            found.append(escaped[:cut])
            escaped = escaped[cut:]
    found.append(escaped)
    return [piece for piece in found if piece.strip()]


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": shorten(text, limit) or ELLIPSIS, "emoji": True}


def mrkdwn_section(escaped: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": escaped}}


def context_block(escaped: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(escaped, MAX_SECTION)}]}


def action_id(button_action: str, number: int) -> str:
    """Slack wants action ids unique within a message; the suffix is stripped when pressed."""
    suffix = f"#{number}"
    return button_action[:MAX_ACTION_ID - len(suffix)] + suffix


def pressed_action(block_action_id: str) -> str:
    """The handler's action id of a pressed button: `expertise.page#3` → `expertise.page`."""
    base, hash_sign, number = block_action_id.rpartition("#")
    return base if hash_sign and number.isdigit() else block_action_id


def mention(user_id: str | None) -> str:
    """A Slack mention, only for something that looks like a user id (never user text)."""
    return f"<@{user_id}>" if user_id and USER_ID.fullmatch(user_id) else ""


class _Blocks:
    """Collects blocks for one message, numbering the buttons so their action ids are unique."""

    def __init__(self) -> None:
        self.blocks: list[dict[str, Any]] = []
        self.buttons = 0

    def button(self, button: Button) -> dict[str, Any]:
        self.buttons += 1
        element: dict[str, Any] = {"type": "button", "text": plain(button.label, MAX_LABEL),
                                   "action_id": action_id(button.action_id, self.buttons)}
        if button.value:
            element["value"] = button.value[:MAX_VALUE]
        if button.style is not Style.DEFAULT:
            element["style"] = button.style.value
        return element

    def actions(self, buttons: tuple[Button, ...]) -> None:
        for start in range(0, len(buttons), MAX_ELEMENTS):
            row = buttons[start:start + MAX_ELEMENTS]
            self.blocks.append({"type": "actions", "elements": [self.button(b) for b in row]})


def render(reply: Reply, t: Catalog, *, max_blocks: int = MAX_BLOCKS,
           shortened: str = "slack.shortened") -> tuple[str, list[dict[str, Any]]]:
    """The fallback `text` (notifications, screen readers) and the Block Kit blocks of a reply.

    Every user-supplied string goes through `escape`; the only mentions are those of `Item.mention`.
    A `File` is no block: the adapter uploads it beside the message (`files_of`).
    """
    out = _Blocks()
    warning = [":warning: " if reply.is_error else ""]

    def heading(part: Heading) -> None:
        if part.text.strip():
            out.blocks.append({"type": "header", "text": plain(part.text, MAX_HEADER)})

    def text(part: Text) -> None:
        for piece in pieces(warning[0] + escape(part.text)):
            out.blocks.append(mrkdwn_section(piece))
        warning[0] = ""

    def fields(part: Fields) -> None:
        found = [{"type": "mrkdwn", "text": clip(f"*{escape(key)}*\n{escape(value)}", MAX_FIELD)}
                 for key, value in part.pairs]
        for start in range(0, len(found), MAX_FIELDS):
            out.blocks.append({"type": "section", "fields": found[start:start + MAX_FIELDS]})

    def item(part: Item) -> None:
        who = mention(part.mention.user_id(PLATFORM)) if part.mention else ""
        title = f"*{escape(part.title.strip())}*" + (f" {who}" if who else "")
        out.blocks.append(mrkdwn_section(clip("\n".join([title, *map(escape, part.lines)]), MAX_SECTION)))
        out.actions(part.buttons)

    def context(part: Context) -> None:
        if part.text.strip():
            out.blocks.append(context_block(escape(part.text)))

    render_parts(reply.parts, {Heading: heading, Text: text, Fields: fields, Item: item,
                               Actions: lambda part: out.actions(part.buttons), Context: context,
                               File: lambda part: None}, "Slack")
    blocks = out.blocks
    if len(blocks) > max_blocks:  # a message holds 50 blocks, a view 100 (Home: issue 17)
        blocks = [*blocks[:max_blocks - 1], context_block(escape(t(shortened)))]
    return clip(escape(reply.plain()), MAX_SECTION), blocks


def files_of(reply: Reply) -> list[File]:
    """The files a reply carries: uploaded after its message (files.uploadV2)."""
    return [part for part in reply.parts if isinstance(part, File)]


def message(reply: Reply, t: Catalog) -> dict[str, Any]:
    """A reply as the body of an ack or a response_url post."""
    text, blocks = render(reply, t)
    shown_to = "in_channel" if reply.audience in (Audience.CHANNEL, Audience.THREAD) else "ephemeral"
    return {"response_type": shown_to, "text": text, "blocks": blocks}


ANSWERS_KEPT = 256  # acks' bodies kept rendered, by reply object
_answers: dict[tuple[int, int], tuple[Reply, Catalog, str]] = {}


def ack_body(reply: Reply, t: Catalog) -> str:
    """`message` as the JSON of an ack, as bolt would write it. A reply object a feature hands out again (a
    page of results many people ask for, handlers/expertise) is rendered and serialised once: a reply is
    frozen and rendering is pure, so the same object and catalog give the same bytes (issue 19)."""
    key = (id(reply), id(t))
    kept = _answers.get(key)
    if kept is not None and kept[0] is reply and kept[1] is t:
        return kept[2]
    body = json.dumps(message(reply, t))
    if len(_answers) >= ANSWERS_KEPT:
        _answers.clear()
    _answers[key] = (reply, t, body)
    return body


def _input_element(field: FormField) -> dict[str, Any]:
    if field.kind is FieldKind.CHOICE:
        options = [{"text": plain(c.label, MAX_LABEL), "value": c.value[:MAX_OPTION_VALUE]}
                   for c in field.choices[:MAX_OPTIONS]]
        element: dict[str, Any] = {"type": "static_select", "action_id": INPUT_ACTION, "options": options}
        chosen = [o for o, c in zip(options, field.choices, strict=False) if c.value == field.initial]
        if chosen:
            element["initial_option"] = chosen[0]
        return element
    if field.kind is FieldKind.MULTI_CHOICE:  # budget round (issue 16): checkboxes (Slack allows 10), else a
        boxes = [{"text": plain(c.label, MAX_LABEL), "value": c.value[:MAX_OPTION_VALUE]}  # multi-select
                 for c in field.choices[:MAX_OPTIONS]]
        ticked = [o for o, c in zip(boxes, field.choices, strict=False) if c.value in field.initial.split(",")]
        kind = "checkboxes" if len(boxes) <= 10 else "multi_static_select"
        return {"type": kind, "action_id": INPUT_ACTION, "options": boxes} | (
            {"initial_options": ticked} if ticked else {})
    limit = max(1, min(field.max_length, MAX_INPUT))
    element = {"type": "plain_text_input", "action_id": INPUT_ACTION,
               "multiline": field.kind is FieldKind.LONG_TEXT, "max_length": limit}
    if field.initial:
        element["initial_value"] = field.initial[:limit]
    return element


def modal(form: Form, t: Catalog, channel: str) -> dict[str, Any]:
    """A form as a modal view; `private_metadata` carries the form's state and where to answer."""
    blocks = []
    for field in form.fields:
        block: dict[str, Any] = {"type": "input", "block_id": field.name, "label": plain(field.label, MAX_FIELD),
                                 "optional": not field.required, "element": _input_element(field)}
        if field.hint:
            block["hint"] = plain(field.hint, MAX_FIELD)
        blocks.append(block)
    return {
        "type": "modal", "callback_id": form.form_id,
        "title": plain(form.title, MAX_MODAL_TITLE), "submit": plain(form.submit_label, MAX_MODAL_TITLE),
        "close": plain(t("slack.cancel"), MAX_MODAL_TITLE),
        "private_metadata": json.dumps({"state": form.state, "channel": channel}),
        "blocks": blocks,
    }


def form_values(view: Mapping[str, Any]) -> dict[str, str]:
    """The submitted values of a modal, by field name (= block id); empty inputs as ""."""
    values: dict[str, str] = {}
    for block_id, elements in ((view.get("state") or {}).get("values") or {}).items():
        for element in elements.values():
            if element.get("type") == "static_select":
                values[block_id] = str((element.get("selected_option") or {}).get("value") or "")
            elif element.get("type") in ("checkboxes", "multi_static_select"):  # budget round (issue 16)
                values[block_id] = ",".join(str(o.get("value") or "") for o in element.get("selected_options") or ())
            else:
                values[block_id] = str(element.get("value") or "")
    return values


def form_errors(rejected: FormRejected, view: Mapping[str, Any]) -> dict[str, str]:
    """Errors by block id; an error for a field the modal does not show goes to its first input."""
    shown = [b.get("block_id", "") for b in view.get("blocks", []) if b.get("type") == "input"]
    errors: dict[str, str] = {}
    for name, error in rejected.errors.items():
        block = name if name in shown or not shown else shown[0]
        errors[block] = f"{errors[block]} {error}" if block in errors else error
    return errors
