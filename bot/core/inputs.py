"""What reaches the bot, whatever the platform: commands, button presses, forms, messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


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


@dataclass(frozen=True)
class ChannelMessage:
    text: str
    actor: Actor
    channel: str
    message_id: str
    thread_id: str = ""
    delivery_id: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)


Input = Command | Action | FormSubmission | ChannelMessage
