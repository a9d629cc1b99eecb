"""Teams activities as the bot's inputs: who acts, where, and the command a message carries.

A person is known by their Entra (AAD) object id where Teams gives it (it is the same in every team and
in a message extension's payload), else by their Bot Framework id. In a channel the bot only hears
messages that @-mention it; the mention is stripped before the command is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from typing import Any

from microsoft_agents.activity import Activity, ChannelAccount
from microsoft_agents.hosting.core import TurnContext

from bot.core.inputs import Actor, Command, Reaction

PLATFORM = "teams"
IDEA_EMOJI = "💡"
HELP_ALIASES = {"help": "netwerkbot", "hulp": "netwerkbot"}


@dataclass
class Origin:
    """Where an input came from, so its answer goes back there (during the turn: its context)."""

    actor: Actor
    conversation: str
    kind: str  # personal, channel or groupChat
    context: TurnContext | None = None
    activity_id: str = ""
    invoke: bool = False  # a press or a submit: the answer for the actor alone goes in the invoke response
    closing_form: bool = False  # a form's submit: its answer takes the form card's place
    answered: dict[str, Any] = field(default_factory=dict)  # the invoke response, once there is one

    @property
    def shared(self) -> bool:
        return self.kind != "personal"


def person(account: ChannelAccount | None) -> Actor:
    if account is None:
        return Actor(PLATFORM, "")
    return Actor(PLATFORM, str(account.aad_object_id or account.id or ""), str(account.name or ""))


def base_id(activity: Activity) -> str:
    """The conversation without the thread Teams appends (`19:…@thread.tacv2;messageid=…`): the channel."""
    return str(activity.conversation.id if activity.conversation else "").split(";")[0]


def origin_of(context: TurnContext) -> Origin:
    activity = context.activity
    conversation = activity.conversation
    kind = str((conversation.conversation_type if conversation else "") or "personal")
    return Origin(person(activity.from_property), base_id(activity), kind, context,
                  str(activity.id or ""), invoke=activity.type == "invoke")


def command_of(activity: Activity, actor: Actor) -> Command | None:
    """`expertise gedrag`, `/expertise gedrag` or `@netwerkbot expertise gedrag` as a Command; None for nothing."""
    text = activity.remove_recipient_mention() if activity.recipient else (activity.text or "")
    text = (text or "").replace("\u00a0", " ").strip()
    if not text:
        return None
    word, _, rest = text.replace("\n", " ").lstrip("/").partition(" ")
    name = word.lower()
    return Command(HELP_ALIASES.get(name, name), rest.strip(), actor, channel=base_id(activity),
                   delivery_id=f"teams:{activity.id}" if activity.id else "")


def idea_of(activity: Activity, actor: Actor) -> Reaction | None:
    """The message extension action "Maak er een idee van" on a message, as the 💡 under it."""
    value: dict[str, Any] = activity.value if isinstance(activity.value, dict) else {}
    payload: dict[str, Any] = value["messagePayload"] if isinstance(value.get("messagePayload"), dict) else {}
    if not payload:
        return None
    body: dict[str, Any] = payload["body"] if isinstance(payload.get("body"), dict) else {}
    user = ((payload.get("from") or {}).get("user") or {}) if isinstance(payload.get("from"), dict) else {}
    author = Actor(PLATFORM, str(user.get("id") or ""), str(user.get("displayName") or "")) if user else None
    channel = base_id(activity)
    message_id = str(payload.get("id") or "")
    return Reaction(IDEA_EMOJI, actor, channel, message_id=message_id,
                    message_text=plain_text(str(body.get("content") or ""), str(body.get("contentType") or "")),
                    message_author=author if author and author.user_id else None,
                    link=str(payload.get("linkToMessage") or ""),
                    delivery_id=f"teams:idea:{message_id}:{actor.user_id}")


def plain_text(content: str, content_type: str) -> str:
    """A Teams message body as plain text (Teams sends channel messages as HTML)."""
    if content_type.lower() != "html":
        return content
    return unescape(re.sub(r"<br\s*/?>|</p>|</div>", "\n", re.sub(r"<(?!br|/p|/div)[^>]+>", "", content))).strip()
