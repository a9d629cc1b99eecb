"""Slack (slack-bolt): `netwerkbot slack`, over HTTP or in Socket Mode.

- render.py: a `Reply` as Block Kit, a `Form` as a modal (pure functions);
- guard.py, payloads.py: the door: the signature verified before parsing, a schema per payload kind;
- events.py: Slack's payloads as the bot's inputs;
- kept.py: presses (and late commands and forms) kept in the inbox before the ack, handled after it;
- adapter.py: the bolt listeners, delivering outcomes after the ack, and the outbox's way out;
- serving.py: the aiohttp application (events, health, calendar feeds) and `serve`.
"""

from __future__ import annotations

from bot.adapters.slack.adapter import SlackAdapter, missing_settings, retry_handlers
from bot.adapters.slack.events import PLATFORM, Origin, channel_message, emoji
from bot.adapters.slack.render import (
    escape,
    form_errors,
    form_values,
    message,
    modal,
    pressed_action,
    render,
)
from bot.adapters.slack.serving import CALENDAR_PATH, EVENTS_PATH, HEALTH_PATH, serve

__all__ = ["CALENDAR_PATH", "EVENTS_PATH", "HEALTH_PATH", "PLATFORM", "Origin", "SlackAdapter", "channel_message",
           "emoji", "escape", "form_errors", "form_values", "message", "missing_settings", "modal", "pressed_action",
           "render", "retry_handlers", "serve"]
