"""Slack's payloads as the bot's inputs: message events (new, edited, deleted), reactions' emoji,
interaction users and timestamps, and where an input came from (`Origin`) so its answer finds its way back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.core.inputs import Actor, Change, ChannelMessage

PLATFORM = "slack"
# message subtypes that are someone writing something new; edits, deletions, joins are not
NEW_MESSAGE_SUBTYPES = frozenset({"", "thread_broadcast", "file_share", "me_message"})
# Slack's names of the reactions features look for, as the emoji itself; any other name stays ":name:"
EMOJI = {
    "bulb": "💡", "+1": "👍", "thumbsup": "👍", "-1": "👎", "thumbsdown": "👎", "heart": "❤️",
    "white_check_mark": "✅", "heavy_check_mark": "✔️", "x": "❌", "eyes": "👀", "question": "❓",
    "grey_question": "❔", "exclamation": "❗", "raised_hands": "🙌", "clap": "👏", "pray": "🙏", "tada": "🎉",
    "star": "⭐", "pushpin": "📌", "memo": "📝", "rocket": "🚀", "thinking_face": "🤔", "fire": "🔥",
    "ok_hand": "👌", "wave": "👋", "smile": "😄", "slightly_smiling_face": "🙂", "joy": "😂",
}


def slack_time(stamp: Any) -> datetime | None:
    """A Slack timestamp ("1790000000.123456") as an aware datetime, or None."""
    try:
        return datetime.fromtimestamp(float(stamp), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


@dataclass(frozen=True)
class Origin:
    """Where an input came from, so that its outcome finds its way back after the ack."""

    actor: Actor
    channel: str = ""
    response_url: str = ""
    trigger_id: str = ""
    thread_ts: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Origin:
        """Back from the inbox, where `dataclasses.asdict` wrote it (edge, issue 14)."""
        fields = dict(data)
        return cls(actor=Actor(**fields.pop("actor")), **fields)


def emoji(name: str) -> str:
    """Slack's reaction name as the emoji: "bulb" → "💡", "+1::skin-tone-3" → "👍", "parrot" → ":parrot:"."""
    base = name.strip(":").split("::", 1)[0]
    return EMOJI.get(base, f":{base}:")


def channel_message(event: Mapping[str, Any], delivery_id: str, bot_user_id: str | None) -> ChannelMessage | None:
    """A `message` event as a ChannelMessage: new, edited or deleted; None for what no feature reads
    (joins, topic changes, the bot's and other bots' messages, a change that left the text as it was)."""
    subtype = str(event.get("subtype") or "")
    channel = str(event.get("channel", ""))

    def written_by_a_person(message: Mapping[str, Any]) -> str:
        user = str(message.get("user") or "")
        return "" if message.get("bot_id") or user == bot_user_id else user

    if subtype == "message_changed":
        message: Mapping[str, Any] = event.get("message") or {}
        previous: Mapping[str, Any] = event.get("previous_message") or {}
        ts = str(message.get("ts") or "")
        thread = str(message.get("thread_ts") or "")
        text = str(message.get("text") or "")
        change = Change.EDITED
        if message.get("subtype") == "tombstone":  # a parent with replies deleted: Slackbot's placeholder stays
            user, text, change = written_by_a_person(previous), "", Change.DELETED
        else:
            user = "" if previous.get("bot_id") else written_by_a_person(message)
            # an unfurl, a new reply count, a language tag: message_changed, but the text is what it was
            if (str(previous.get("text") or "") == text) if previous else not message.get("edited"):
                return None
        if not user:
            return None
        return ChannelMessage(text, Actor(PLATFORM, user), channel, message_id=ts,
                              thread_id="" if thread == ts else thread, delivery_id=delivery_id, change=change)
    if subtype == "message_deleted":
        previous = event.get("previous_message") or {}
        if previous.get("bot_id") or (bot_user_id and previous.get("user") == bot_user_id):
            return None
        thread = str(previous.get("thread_ts") or "")
        ts = str(event.get("deleted_ts") or previous.get("ts") or "")
        return ChannelMessage("", Actor(PLATFORM, str(previous.get("user") or "")), channel, message_id=ts,
                              thread_id="" if thread == ts else thread, delivery_id=delivery_id,
                              change=Change.DELETED)
    user = written_by_a_person(event)
    if subtype not in NEW_MESSAGE_SUBTYPES or not user:
        return None
    return ChannelMessage(str(event.get("text", "")), Actor(PLATFORM, user), channel,
                          message_id=str(event.get("ts", "")), thread_id=str(event.get("thread_ts", "")),
                          delivery_id=delivery_id)


def interaction_actor(user: Mapping[str, Any]) -> Actor:
    """The actor of an interaction payload (`user` of block_actions and view_submission)."""
    return Actor(PLATFORM, str(user.get("id", "")), str(user.get("name") or user.get("username") or ""))
