"""What the bot says: a `Reply` of neutral parts, or a `Form` to fill in.

Every string in a part is plain text, possibly written by a user; renderers escape it for
their platform. Mentions exist only as `Mention` parts, so no user text can ping anyone.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Style(StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


class Audience(StrEnum):
    ACTOR = "actor"  # only the person who asked
    CHANNEL = "channel"  # everyone in the channel
    THREAD = "thread"  # in the thread of the message that triggered it
    GROUP = "group"  # a new private conversation of the actor with `Reply.group`


@dataclass(frozen=True)
class Mention:
    """A member, mentionable on every platform where we know their user id."""

    name: str
    identities: tuple[tuple[str, str], ...] = ()  # (platform, user id)

    def user_id(self, platform: str) -> str | None:
        return next((uid for p, uid in self.identities if p == platform), None)


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str
    value: str = ""
    style: Style = Style.DEFAULT


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Fields:
    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Item:
    """One entry of a list: a person, a topic. `mention` makes the title reachable."""

    title: str
    lines: tuple[str, ...] = ()
    mention: Mention | None = None
    buttons: tuple[Button, ...] = ()


class Ballot(StrEnum):
    """Whether a row of buttons is a ballot: one choice per voter, the last one counts. Platforms with
    polls of their own show an open ballot as one (Matrix); a secret one must be cast privately."""

    NONE = ""
    OPEN = "open"
    SECRET = "secret"


@dataclass(frozen=True)
class Actions:
    buttons: tuple[Button, ...]
    ballot: Ballot = Ballot.NONE
    # an open ballot of several choices (a budget round): where a platform has polls (Matrix), a poll of
    # these with up to `max_selections` answers, whose answers press the first's action with their values
    # joined by ","; elsewhere `buttons` (e.g. one that opens a form)
    poll: tuple[Button, ...] = ()
    max_selections: int = 1


@dataclass(frozen=True)
class Context:
    text: str


@dataclass(frozen=True)
class File:
    """A file the reply carries (an export, a chart, a member's own data): uploaded where the platform can
    (Slack files.uploadV2, Matrix m.file / m.image), written to disk with its path shown in the terminal."""

    name: str  # file name with extension, e.g. "stemming-3.csv"
    mime: str  # e.g. "text/csv", "application/json", "image/png"
    data: bytes
    title: str = ""


Part = Heading | Text | Fields | Item | Actions | Context | File


@dataclass(frozen=True)
class Reply:
    parts: tuple[Part, ...]
    audience: Audience = Audience.ACTOR
    replace_original: bool = False  # a page of results replaces the previous page
    group: tuple[Mention, ...] = ()  # with Audience.GROUP: who else is in the conversation
    is_error: bool = False
    thread: str = ""  # sent by the outbox: in the thread of this message (its platform id, or the ref `send` gave)
    private: bool = False  # for the actor's eyes only, also where a platform has no ephemeral messages (Matrix: DM)

    @classmethod
    def text(cls, text: str, *, audience: Audience = Audience.ACTOR, error: bool = False) -> Reply:
        return cls((Text(text),), audience=audience, is_error=error)

    def plain(self) -> str:
        """A plain-text summary, for notifications and for platforms' fallback `text`."""
        for part in self.parts:
            if isinstance(part, Heading | Text | Context):
                return part.text
            if isinstance(part, Item):
                return part.title
        return ""


def _button(data: dict[str, Any]) -> Button:
    return Button(data["label"], data["action_id"], data.get("value", ""), Style(data.get("style", "default")))


def _part(data: dict[str, Any]) -> Part:
    kind = data.pop("type")
    if kind == "Fields":
        return Fields(tuple((k, v) for k, v in data["pairs"]))
    if kind == "Item":
        mention = data.get("mention")
        return Item(data["title"], tuple(data.get("lines", ())),
                    Mention(mention["name"], tuple((p, u) for p, u in mention["identities"])) if mention else None,
                    tuple(map(_button, data.get("buttons", ()))))
    if kind == "Actions":
        return Actions(tuple(map(_button, data["buttons"])), Ballot(data.get("ballot", "")),
                       tuple(map(_button, data.get("poll", ()))), int(data.get("max_selections", 1)))
    if kind == "File":
        return File(data["name"], data["mime"], base64.b64decode(data["data"]), data.get("title", ""))
    simple: dict[str, type[Heading | Text | Context]] = {"Heading": Heading, "Text": Text, "Context": Context}
    return simple[kind](data["text"])


def _part_to_json(part: Part) -> dict[str, Any]:
    data = {"type": type(part).__name__, **asdict(part)}
    if isinstance(part, File):
        data["data"] = base64.b64encode(part.data).decode("ascii")
    return data


def reply_to_json(reply: Reply) -> str:
    """A reply as JSON, for the outbox: it is rendered by whichever adapter sends it, when it sends it."""
    return json.dumps({"parts": [_part_to_json(part) for part in reply.parts],
                       "audience": reply.audience.value, "is_error": reply.is_error, "thread": reply.thread},
                      ensure_ascii=False)


def reply_from_json(text: str) -> Reply:
    data = json.loads(text)
    return Reply(tuple(_part(part) for part in data["parts"]), audience=Audience(data["audience"]),
                 is_error=data.get("is_error", False), thread=data.get("thread", ""))


class FieldKind(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    CHOICE = "choice"
    AMOUNT = "amount"  # euros, parsed by the handler
    DATETIME = "datetime"  # Dutch date/time, parsed by the handler
    MULTI_CHOICE = "multi_choice"  # several of `choices`: the values joined by "," (adapters without checkboxes: typed)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: FieldKind = FieldKind.TEXT
    required: bool = True
    hint: str = ""
    initial: str = ""
    max_length: int = 2000
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Form:
    form_id: str
    title: str
    fields: tuple[FormField, ...]
    submit_label: str
    state: str = ""


@dataclass(frozen=True)
class FormRejected:
    """The answer to a submission with bad fields: a Dutch message per field, nothing saved."""

    errors: dict[str, str] = field(default_factory=dict)


Outcome = Reply | Form | FormRejected | None
