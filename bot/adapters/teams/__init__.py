"""Microsoft Teams (Microsoft 365 Agents SDK): `netwerkbot teams` and `netwerkbot teams pakket`.

- render.py: a `Reply` as an Adaptive Card, a `Form` as a card with inputs (pure functions);
- events.py: Teams activities as the bot's inputs (the @-mention stripped, the message extension's idea);
- adapter.py: the turn, delivering outcomes, conversation references, and the outbox's way out;
- serving.py: the aiohttp application (`POST /api/messages`, health) and `serve`;
- package.py: the Teams app package (manifest and icons) for upload in Teams admin.
"""

from __future__ import annotations

from bot.adapters.teams.adapter import TeamsAdapter, missing_settings
from bot.adapters.teams.events import PLATFORM, Origin
from bot.adapters.teams.render import card, escape, form_card
from bot.adapters.teams.serving import HEALTH_PATH, MESSAGES_PATH, serve, web_app

__all__ = ["HEALTH_PATH", "MESSAGES_PATH", "PLATFORM", "Origin", "TeamsAdapter", "card", "escape", "form_card",
           "missing_settings", "serve", "web_app"]
