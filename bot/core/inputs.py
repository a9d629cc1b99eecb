"""What reaches the bot, whatever the platform: commands, button presses, forms, messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True)
class Actor:
    """A person on a platform. `name` is what the platform told us in the payload, if anything."""

    platform: str
    user_id: str
    name: str = ""


@dataclass(frozen=True)
class Command:
    name: str  # without slash or bang: "expertise"
    text: str  # everything after the command word
    actor: Actor
    channel: str = ""
    delivery_id: str = ""  # set only where a platform may deliver the same input twice
    # False where the platform never sends it again by itself and it is answered in the response to its own
    # request (Slack slash commands and forms): only a replayed request repeats it, so its delivery is
    # claimed only when its handling writes (bot/dispatch.py), and a replay that changes nothing is answered
    redelivered: bool = True


@dataclass(frozen=True)
class Action:
    """A button pressed. `action_id` names the handler, `value` is what the button carried; `pressed_at`
    is when the person pressed it, where the platform says (presses may be handled out of order)."""

    action_id: str
    value: str
    actor: Actor
    channel: str = ""
    delivery_id: str = ""
    pressed_at: datetime | None = None


@dataclass(frozen=True)
class FormSubmission:
    form_id: str
    values: Mapping[str, str]
    actor: Actor
    state: str = ""  # private context the form carried (e.g. "for whom")
    channel: str = ""
    delivery_id: str = ""
    redelivered: bool = True  # as `Command.redelivered`


class Change(StrEnum):
    """What happened to a message in a channel the bot listens to."""

    NEW = "new"
    EDITED = "edited"  # `text` is the new text
    DELETED = "deleted"  # `text` is empty


@dataclass(frozen=True)
class ChannelMessage:
    """Someone wrote (edited, deleted) a message in a channel; never the bot itself or another bot."""

    text: str
    actor: Actor
    channel: str
    message_id: str  # the platform's id of the message (Slack ts, Matrix event id)
    thread_id: str = ""  # the message it answers in a thread, if any
    delivery_id: str = ""
    change: Change = Change.NEW
    link: str = ""  # a permalink to the message, where the platform has one
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reaction:
    """Someone put an emoji under a message. Adapters give the emoji itself ("💡", not Slack's "bulb")
    and, where they can, the message it is under: its text, author and link."""

    emoji: str
    actor: Actor
    channel: str
    message_id: str
    message_text: str = ""
    message_author: Actor | None = None
    link: str = ""
    thread_id: str = ""
    delivery_id: str = ""


@dataclass(frozen=True)
class MembershipChanged:
    """Who is in a channel the bot is in: one person joined or left (`user_id`, `joined`), or the platform's
    full list of its members (`members`), which replaces what the bot knew. Nobody acts: no reply."""

    platform: str
    channel: str
    user_id: str = ""
    joined: bool = True
    members: tuple[str, ...] | None = None
    delivery_id: str = ""


Listened = ChannelMessage | Reaction
Input = Command | Action | FormSubmission | ChannelMessage | Reaction
