"""Slack's Home tab and shortcuts (issue 17), mixed into `SlackAdapter`.

Home: `app_home_opened` is acknowledged at once; then a new person is named (their profile, as before any
first input; a stale one is fetched after) and the port is told they watch `home:slack:<user>`: the
refresher renders their overview and hands it to `publish` (views.publish), now and, while they opened it
recently, after each change, at most once a second. A view the same as the one published last is not sent
again. Buttons on Home are the features' own: their presses come as block_actions without channel or
response_url, and their answers go to the person's direct conversation with the bot (or a modal, for a form).

Shortcuts are inputs like any other:
- "Pitch indienen" (global, `pitch_indienen`): `/pitch`, which opens the pitch form;
- "Expertise zoeken" (global, `expertise_zoeken`): the search form; its results come back in the modal;
- "Maak er een idee van" (message, `idee_maken`) and "Wie weet dit?" (message, `wie_weet`): a press of
  `idee.maken` / `vraag.wie_weet` carrying the message (channel, ts, thread, author, text, link), kept in the
  inbox before the ack like every press, answered privately (the shortcut's response_url).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.response import BoltResponse

from bot.adapters.slack.events import PLATFORM, Origin, interaction_actor
from bot.adapters.slack.guard import request_key
from bot.adapters.slack.render import message, render
from bot.core.inputs import Action, Actor, Command, Input
from bot.core.port import Kept, Port, home_view
from bot.core.reply import Outcome, Reply

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from config.i18n import Catalog

log = logging.getLogger(__name__)

MAX_VIEW_BLOCKS = 100  # Slack's limit of a Home view
PUBLISHED_KEPT = 20_000  # views remembered to skip publishing the same again
GLOBAL_SHORTCUTS: dict[str, Callable[[Actor], Input]] = {
    "pitch_indienen": lambda actor: Command("pitch", "", actor),
    "expertise_zoeken": lambda actor: Action("expertise.zoeken", "", actor),
}
MESSAGE_SHORTCUTS = {"idee_maken": "idee.maken", "wie_weet": "vraag.wie_weet"}
PERMALINK_WAIT = 1.0  # seconds the link of a message may take before the shortcut is kept without it


def home(reply: Reply, t: Catalog) -> dict[str, Any]:
    """An overview as a Home view: within Slack's 100 blocks, the last saying where the rest is."""
    _, blocks = render(reply, t, max_blocks=MAX_VIEW_BLOCKS, shortened="home.shortened")
    return {"type": "home", "blocks": blocks}


def results_view(submitted: dict[str, Any], reply: Reply, t: Catalog) -> dict[str, Any]:
    """A modal whose submission was answered with `replace_original`: the answer in it, above the same inputs
    (search again), with the modal's callback and metadata kept."""
    _, blocks = render(reply, t, max_blocks=MAX_VIEW_BLOCKS - len(submitted.get("blocks") or []))
    inputs = [b for b in submitted.get("blocks") or [] if b.get("type") == "input"]
    keep = ("type", "callback_id", "title", "submit", "close", "private_metadata")
    return {k: submitted[k] for k in keep if k in submitted} | {"blocks": [*inputs, *blocks]}


class HomeAndShortcuts:
    """Mixed into `SlackAdapter`, which gives the port, the clients, the catalogue and its delivery."""

    port: Port
    app: AsyncApp
    t: Catalog
    client: AsyncWebClient
    outbox_client: AsyncWebClient
    _published: dict[str, str]

    if TYPE_CHECKING:
        def background(self, work: Any, name: str) -> None: ...

        async def name_first(self, actor: Actor) -> None: ...

        def refresh_profile_later(self, actor: Actor) -> None: ...

        async def follow_up(self, outcome: asyncio.Task[Outcome] | None, origin: Origin) -> None: ...

        async def within_budget(self, inp: Input) -> tuple[asyncio.Task[Outcome], bool]: ...

        async def keep(self, inputs: list[Kept], origin: Origin) -> int | None: ...

        async def handle_kept(self, entry: int, inputs: list[Kept], origin: Origin) -> None: ...

        async def fetch_permalink(self, channel: str, ts: str) -> str: ...

        def sorted_failures(self) -> contextlib.AbstractAsyncContextManager[None]: ...

    def listen_home_and_shortcuts(self) -> None:
        self._published = {}
        self.app.event("app_home_opened")(self.on_home_opened)
        any_id = re.compile(r".*")
        self.app.shortcut({"type": "shortcut", "callback_id": any_id})(self.on_shortcut)
        self.app.shortcut({"type": "message_action", "callback_id": any_id})(self.on_message_shortcut)

    # -- Home ---------------------------------------------------------------------------------------------

    async def on_home_opened(self, ack: AsyncAck, event: dict[str, Any]) -> None:
        await ack()
        if event.get("tab", "home") == "home":
            self.background(self.open_home(Actor(PLATFORM, str(event["user"]))), "home opened")

    async def open_home(self, actor: Actor) -> None:
        await self.name_first(actor)  # a new person is named before their overview greets them
        self.port.watch(home_view(PLATFORM, actor.user_id))
        self.refresh_profile_later(actor)

    async def publish(self, key: str, reply: Reply) -> None:
        """views.publish of the person's Home, unless it is what they were shown last (bot/core/port.Publisher)."""
        user_id = key.rpartition(":")[2]
        view = home(reply, self.t)
        digest = hashlib.sha256(json.dumps(view, sort_keys=True).encode()).hexdigest()
        if self._published.get(user_id) == digest:
            return
        async with self.sorted_failures():
            await self.outbox_client.views_publish(user_id=user_id, view=view)
        if len(self._published) >= PUBLISHED_KEPT:
            self._published.clear()
        self._published[user_id] = digest

    # -- shortcuts ----------------------------------------------------------------------------------------

    async def on_shortcut(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """A global shortcut: its form opens in a modal right after the ack (nothing is stored by opening it)."""
        actor = interaction_actor(body["user"])
        origin = Origin(actor, trigger_id=str(body.get("trigger_id", "")))
        make = GLOBAL_SHORTCUTS.get(str(body["callback_id"]))
        if make is None:
            await ack(**message(Reply.text(self.t("home.unknown_shortcut"), error=True), self.t))
            return
        work, _ = await self.within_budget(make(actor))
        await ack()
        self.background(self.follow_up(work, origin), f"after shortcut {body['callback_id']}")

    async def on_message_shortcut(self, ack: AsyncAck, body: dict[str, Any]) -> BoltResponse | None:
        """A shortcut on a message: a press carrying the message, kept before the ack, answered privately."""
        actor = interaction_actor(body["user"])
        channel = str(body["channel"]["id"])
        origin = Origin(actor, channel, str(body.get("response_url", "")), str(body.get("trigger_id", "")))
        action_id = MESSAGE_SHORTCUTS.get(str(body["callback_id"]))
        if action_id is None:
            await ack(**message(Reply.text(self.t("home.unknown_shortcut"), error=True), self.t))
            return None
        posted: dict[str, Any] = body["message"]
        ts = str(posted.get("ts") or body["message_ts"])
        link = ""
        with contextlib.suppress(TimeoutError):
            link = await asyncio.wait_for(self.fetch_permalink(channel, ts), PERMALINK_WAIT)
        author = "" if posted.get("bot_id") else str(posted.get("user") or "")
        value = json.dumps({"channel": channel, "ts": ts, "thread": str(posted.get("thread_ts") or ""),
                            "author": author, "text": str(posted.get("text") or ""), "link": link},
                           ensure_ascii=False)
        pressed: list[Kept] = [Action(action_id, value, actor, channel=channel, delivery_id=request_key())]
        if (entry := await self.keep(pressed, origin)) is None:
            return BoltResponse(status=503)
        await ack()
        self.background(self.handle_kept(entry, pressed, origin), f"after shortcut {entry}")
        return None

