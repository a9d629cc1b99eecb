"""Replies as Matrix messages: HTML (`org.matrix.custom.html`) with a plain-text body.

All text in a reply may be a user's, so all of it is escaped with `html.escape`, and `@room` in it
is broken by a word joiner so no client reads it as a room mention; every message also carries
`m.mentions`, which names only the users of explicit `Mention` parts (intentional mentions: a
client that knows them ignores the body). Buttons become numbered commands (`!1`, `!2`) listed in
the message; a ballot (a vote's buttons) is not rendered here: the adapter makes it a poll.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from bot.adapters.base import render_parts
from bot.core.numbers import number_of
from bot.core.reply import (
    Actions,
    Ballot,
    Button,
    Context,
    Fields,
    File,
    Heading,
    Item,
    Mention,
    Part,
    Reply,
    Text,
)
from config.i18n import Catalog

PLATFORM = "matrix"
ROOM_MENTION = re.compile(r"@(room)\b", re.IGNORECASE)
WORD_JOINER = "\u2060"


def neutral(text: str) -> str:
    """User text that cannot mention the whole room."""
    return ROOM_MENTION.sub("@" + WORD_JOINER + r"\1", text)


def esc(text: str) -> str:
    return html.escape(neutral(text), quote=True).replace("\n", "<br>")


def matrix_to(*path: str) -> str:
    return "https://matrix.to/#/" + "/".join(path)


@dataclass
class Rendered:
    body: str
    html: str
    buttons: list[Button] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)

    def content(self, msgtype: str = "m.notice") -> dict[str, Any]:
        return {"msgtype": msgtype, "body": self.body, "format": "org.matrix.custom.html",
                "formatted_body": self.html, "m.mentions": {"user_ids": self.mentions} if self.mentions else {}}


def ballot_of(reply: Reply) -> Actions | None:
    """The reply's vote buttons, if it has them."""
    return next((p for p in reply.parts if isinstance(p, Actions) and p.ballot is not Ballot.NONE), None)


def without_ballot(reply: Reply, extra: tuple[Part, ...] = ()) -> Reply:
    parts = tuple(p for p in reply.parts if not (isinstance(p, Actions) and p.ballot is not Ballot.NONE))
    return Reply((*parts, *extra), audience=reply.audience, is_error=reply.is_error, thread=reply.thread)


def render(reply: Reply, t: Catalog, prefix: str = "!") -> Rendered:
    plain: list[str] = []
    marked: list[str] = []
    out = Rendered("", "")

    def numbered(row: tuple[Button, ...]) -> None:
        texts, htmls = [], []
        for button in row:
            out.buttons.append(button)
            number = f"{prefix}{len(out.buttons)}"
            texts.append(f"{number} {neutral(button.label)}")
            htmls.append(f"<code>{number}</code> {esc(button.label)}")
        plain.append("   ".join(texts))
        marked.append("<p>" + " &nbsp; ".join(htmls) + "</p>")

    def mention(m: Mention) -> str:
        user = m.user_id(PLATFORM)
        if user is None:
            return f"<strong>{esc(m.name)}</strong>"
        out.mentions.append(user)
        return f'<a href="{html.escape(matrix_to(user), quote=True)}">{esc(m.name)}</a>'

    def line(text: str, marked_up: str) -> None:
        plain.append(neutral(text))
        marked.append(marked_up)

    def fields(part: Fields) -> None:
        plain.extend(f"{neutral(k)}: {neutral(v)}" for k, v in part.pairs)
        marked.append("<p>" + "<br>".join(f"<strong>{esc(k)}</strong>: {esc(v)}" for k, v in part.pairs) + "</p>")

    def item(part: Item) -> None:
        title = f"<strong>{esc(part.title)}</strong>"
        if part.mention is not None:
            title += " (" + mention(part.mention) + ")"
        plain.append("• " + neutral(part.title) + (f" ({neutral(part.mention.name)})" if part.mention else ""))
        plain.extend("   " + neutral(line) for line in part.lines)
        marked.append("<p>• " + "<br>".join([title, *(esc(line) for line in part.lines)]) + "</p>")
        if part.buttons:
            numbered(part.buttons)

    render_parts(reply.parts, {
        Heading: lambda part: line(part.text, f"<h4>{esc(part.text)}</h4>"),
        Text: lambda part: line(part.text, f"<p>{esc(part.text)}</p>"),
        Context: lambda part: line(part.text, f"<p><em>{esc(part.text)}</em></p>"),
        Fields: fields, Item: item, Actions: lambda part: numbered(part.buttons),
        File: lambda part: None,  # sent as an m.file event of its own after the message (files_of)
    }, "Matrix")
    if out.buttons:
        hint = t("matrix.buttons_hint", first=f"{prefix}1")
        plain.append(hint)
        marked.append(f"<p><em>{esc(hint)}</em></p>")
    if reply.is_error and plain:
        plain[0] = "⚠️ " + plain[0]
        marked[0] = marked[0].replace(">", ">⚠️ ", 1)
    out.body = "\n".join(plain)
    out.html = "".join(marked)
    return out


def files_of(reply: Reply) -> list[File]:
    return [part for part in reply.parts if isinstance(part, File)]


def file_content(file: File, url: str) -> dict[str, Any]:
    """An `m.file` message of a file uploaded to the media repository at `url` (mxc://…); a picture (a budget
    round's chart) is an `m.image`, shown in the timeline."""
    return {"msgtype": "m.image" if file.mime.startswith("image/") else "m.file", "body": file.title or file.name,
            "filename": file.name, "url": url,
            "info": {"mimetype": file.mime, "size": len(file.data)}}


def edit(rendered: Rendered, target: str, msgtype: str = "m.notice") -> dict[str, Any]:
    """An `m.replace` of the message `target` by this rendering."""
    new = rendered.content(msgtype)
    return {**new, "body": "* " + new["body"], "formatted_body": "* " + new["formatted_body"],
            "m.new_content": new, "m.relates_to": {"rel_type": "m.replace", "event_id": target}}


# -- polls (MSC3381; the stable m.poll blocks of Matrix 1.7 alongside the unstable ones Element reads) ------

POLL_START = "org.matrix.msc3381.poll.start"
POLL_END = "org.matrix.msc3381.poll.end"
POLL_RESPONSES = frozenset({"m.poll.response", "org.matrix.msc3381.poll.response"})


def answer_id(index: int) -> str:
    return f"a{index + 1}"


def answer_index(answer: str) -> int | None:
    number = number_of(answer[1:]) if answer.startswith("a") and not answer.startswith("a#") else None
    return number - 1 if number is not None else None


def poll_start(question: str, labels: list[str], max_selections: int = 1) -> dict[str, Any]:
    question = neutral(question)
    options = [neutral(label) for label in labels]
    fallback = question + "\n" + "\n".join(f"{i}. {o}" for i, o in enumerate(options, 1))
    return {
        "org.matrix.msc3381.poll.start": {
            "question": {"org.matrix.msc1767.text": question, "body": question, "msgtype": "m.text"},
            "kind": "org.matrix.msc3381.poll.disclosed", "max_selections": max_selections,
            "answers": [{"id": answer_id(i), "org.matrix.msc1767.text": o} for i, o in enumerate(options)],
        },
        "org.matrix.msc1767.text": fallback,
        "m.poll": {
            "kind": "m.disclosed", "max_selections": max_selections, "question": {"m.text": [{"body": question}]},
            "answers": [{"m.id": answer_id(i), "m.text": [{"body": o}]} for i, o in enumerate(options)],
        },
        "m.text": [{"body": fallback}],
        "body": fallback,
        "m.mentions": {},
    }


def poll_end(poll_event: str, text: str) -> dict[str, Any]:
    text = neutral(text)
    return {
        "m.relates_to": {"rel_type": "m.reference", "event_id": poll_event},
        "org.matrix.msc3381.poll.end": {},
        "org.matrix.msc1767.text": text,
        "m.text": [{"body": text}],
        "body": text,
        "m.mentions": {},
    }


def poll_answers(content: dict[str, Any]) -> list[str]:
    """The answer ids of a poll response, stable or unstable."""
    stable = content.get("m.selections")
    if isinstance(stable, list):
        return [str(a) for a in stable]
    unstable = content.get("org.matrix.msc3381.poll.response") or {}
    answers = unstable.get("answers") if isinstance(unstable, dict) else None
    return [str(a) for a in answers] if isinstance(answers, list) else []
