"""Slack: the bolt `AsyncApp` over HTTP (or Socket Mode), rendering replies as Block Kit.

Slack wants an acknowledgement within 3 seconds, and a quick answer is best sent *in* it: the
person sees it at once, and no Web API call (with its rate limits) is spent. So the app runs with
`process_before_response=True`: a slash command is dispatched while Slack waits, and when it is
done within `ack_budget_seconds` its reply is the ack's body; otherwise the ack says "even
geduld" and the reply follows through the command's `response_url`. (Bolt's default mode would
run the listener beside the request and poll for the ack every 10 ms, which costs every request
those milliseconds.)

Everything slow happens after the ack in background tasks the adapter keeps track of (and waits
for on shutdown): opening a modal, opening a group conversation, posting, fetching profiles.
Button presses and events are acknowledged at once and handled after. Events carry Slack's
`event_id` as the delivery id, so a retried event is handled once (the dispatcher claims it).
A reaction names only its message (channel and ts); after the ack the adapter reads the message
(conversations.history, or .replies for a thread reply) and its permalink, so a feature gets its
text, author and link; when Slack does not tell (no scope, message gone) the text stays empty.

The module reads top to bottom: rendering (pure functions), the adapter, serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hmac
import json
import logging
import re
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientError, web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy import text as sql

from bot.adapters.slack_guard import SlackDoor, SlackGuard, request_key
from bot.app import Bot
from bot.core.inputs import (
    Action,
    Actor,
    Change,
    ChannelMessage,
    Command,
    FormSubmission,
    Input,
    MembershipChanged,
    Reaction,
)
from bot.core.reply import (
    Actions,
    Audience,
    Button,
    Context,
    FieldKind,
    Fields,
    Form,
    FormField,
    FormRejected,
    Heading,
    Item,
    Outcome,
    Reply,
    Style,
    Text,
)
from bot.inbox import Inbox
from bot.inbox import Kept as KeptInput
from bot.members import Profile
from bot.metrics import add_routes as add_metrics_routes
from bot.outbox import DeliveryDelayed, DeliveryRefused, Sending, account_of, sending
from config.i18n import Catalog
from config.settings import CIRCLE_ROLES, Settings

log = logging.getLogger(__name__)

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
CALENDAR_PATH = "/agenda/{token}/{series}.ics"

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
PROFILE_CHECK_SECONDS = 600.0
MAX_PROFILES_CHECKED = 50_000
# chat.postMessage errors that pass (Slack's side is busy or briefly inconsistent): the outbox tries again
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                              "request_timeout"})
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


# -- rendering: Reply → Block Kit ---------------------------------------------------------------------


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


def render(reply: Reply, t: Catalog) -> tuple[str, list[dict[str, Any]]]:
    """The fallback `text` (notifications, screen readers) and the Block Kit blocks of a reply.

    Every user-supplied string goes through `escape`; the only mentions are those of `Item.mention`.
    """
    out = _Blocks()
    warning = ":warning: " if reply.is_error else ""
    for part in reply.parts:
        if isinstance(part, Heading):
            if part.text.strip():
                out.blocks.append({"type": "header", "text": plain(part.text, MAX_HEADER)})
        elif isinstance(part, Text):
            for piece in pieces(warning + escape(part.text)):
                out.blocks.append(mrkdwn_section(piece))
            warning = ""
        elif isinstance(part, Fields):
            fields = [{"type": "mrkdwn", "text": clip(f"*{escape(key)}*\n{escape(value)}", MAX_FIELD)}
                      for key, value in part.pairs]
            for start in range(0, len(fields), MAX_FIELDS):
                out.blocks.append({"type": "section", "fields": fields[start:start + MAX_FIELDS]})
        elif isinstance(part, Item):
            who = mention(part.mention.user_id(PLATFORM)) if part.mention else ""
            title = f"*{escape(part.title.strip())}*" + (f" {who}" if who else "")
            out.blocks.append(mrkdwn_section(clip("\n".join([title, *map(escape, part.lines)]), MAX_SECTION)))
            out.actions(part.buttons)
        elif isinstance(part, Actions):
            out.actions(part.buttons)
        elif isinstance(part, Context) and part.text.strip():
            out.blocks.append(context_block(escape(part.text)))
    blocks = out.blocks
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[:MAX_BLOCKS - 1], context_block(escape(t("slack.shortened")))]
    return clip(escape(reply.plain()), MAX_SECTION), blocks


def message(reply: Reply, t: Catalog) -> dict[str, Any]:
    """A reply as the body of an ack or a response_url post."""
    text, blocks = render(reply, t)
    shown_to = "in_channel" if reply.audience in (Audience.CHANNEL, Audience.THREAD) else "ephemeral"
    return {"response_type": shown_to, "text": text, "blocks": blocks}


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


# -- the adapter --------------------------------------------------------------------------------------


def retry_handlers() -> list[AsyncRetryHandler]:
    """Retry what Slack asks us to retry: 429 after its Retry-After, 5xx and lost connections with backoff."""
    return [AsyncRateLimitErrorRetryHandler(max_retry_count=3), AsyncServerErrorRetryHandler(max_retry_count=3),
            AsyncConnectionErrorRetryHandler(max_retry_count=2)]


def slack_time(stamp: Any) -> datetime | None:
    """A Slack timestamp ("1790000000.123456") as an aware datetime, or None."""
    try:
        return datetime.fromtimestamp(float(stamp), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def retry_after(error: SlackApiError) -> float | None:
    """Slack's `Retry-After` header of a 429, in seconds."""
    for name, value in (error.response.headers or {}).items():
        if name.lower() == "retry-after":
            first = value[0] if isinstance(value, list) else value
            with contextlib.suppress(TypeError, ValueError):
                return max(float(first), 0.0)
    return None


def missing_settings(settings: Settings) -> list[str]:
    """The Slack variables that must be set before connecting (both modes need them)."""
    required = (("SLACK_BOT_TOKEN", settings.slack_bot_token), ("SLACK_SIGNING_SECRET", settings.slack_signing_secret))
    return [name for name, value in required if value is None or not value.get_secret_value()]


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


def outbox_mark(outbox: Sending | None) -> dict[str, Any] | None:
    """The message metadata that says which outbox message a post is (edge, issue 14)."""
    if outbox is None:
        return None
    return {"event_type": "netwerkbot_outbox", "event_payload": {"outbox_id": outbox.message_id}}


def _slack_error(error: Exception) -> str:
    """Slack's error code (`missing_scope`, `thread_not_found`) or what went wrong on the way."""
    return str(error.response.get("error", "")) if isinstance(error, SlackApiError) else repr(error)


def _actor(user: Mapping[str, Any]) -> Actor:
    """The actor of an interaction payload (`user` of block_actions and view_submission)."""
    return Actor(PLATFORM, str(user.get("id", "")), str(user.get("name") or user.get("username") or ""))


class SlackAdapter:
    """One bolt `AsyncApp` wired to the bot's dispatcher; `web_app()` serves it over HTTP."""

    def __init__(self, bot: Bot, *, client: AsyncWebClient | None = None) -> None:
        settings = bot.settings
        if missing_settings(settings):
            raise ValueError(f"missing Slack settings: {missing_settings(settings)}")
        assert settings.slack_bot_token is not None and settings.slack_signing_secret is not None
        self.bot = bot
        self.t = bot.catalog
        self.budget = settings.ack_budget_seconds
        self.client = client or AsyncWebClient(token=settings.slack_bot_token.get_secret_value(),
                                               base_url=settings.slack_api_url, retry_handlers=retry_handlers())
        # the outbox retries by itself, with backoff kept in the database: this client must not wait
        self.outbox_client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(),
                                            base_url=settings.slack_api_url, retry_handlers=[])
        self.app = AsyncApp(client=self.client, signing_secret=settings.slack_signing_secret.get_secret_value(),
                            process_before_response=True, name="netwerkbot",
                            request_verification_enabled=False)  # the door verifies, before parsing
        # edge (issue 14): signature first, then the payload's schema; see bot/adapters/slack_guard.py
        self.door = SlackDoor(SlackGuard(settings.slack_signing_secret.get_secret_value()), self.app,
                              lambda: self.t("edge.malformed"))
        self.tasks: set[asyncio.Task[None]] = set()
        self.inbox = Inbox(bot.db, bot.clock)  # edge (issue 14): what is acked before it is handled
        self._profiles_checked: dict[str, float] = {}  # user id → time.monotonic() of the last check
        any_id = re.compile(r".*")
        self.app.command(any_id)(self.on_command)
        self.app.block_action(any_id)(self.on_action)
        self.app.view_submission(any_id)(self.on_submission)
        self.app.event("message")(self.on_message)
        self.app.event("reaction_added")(self.on_reaction)
        self.app.event("member_joined_channel")(self.on_membership)
        self.app.event("member_left_channel")(self.on_membership)

    # -- background work ----------------------------------------------------------------------------

    def background(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run `work` after the ack; kept so shutdown can wait for it and failures are logged."""
        task = asyncio.create_task(work, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("background work %s failed", task.get_name(), exc_info=error)

    async def drain(self) -> None:
        """Wait until all background work is done (including work that background work started)."""
        while self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    async def follow_up(self, outcome: asyncio.Task[Outcome] | None, origin: Origin) -> None:
        """After the ack: deliver what was not in it, then refresh the actor's profile."""
        if outcome is not None:
            try:
                await self.deliver(await outcome, origin)
            except SlackApiError as error:  # Slack refused (e.g. an expired trigger_id): no bug of ours
                log.warning("could not deliver the answer to %s: %s", origin.actor.user_id, _slack_error(error))
            except Exception:
                log.exception("could not deliver the answer to %s", origin.actor.user_id)
        if self.profile_due(origin.actor):
            await self.bot.profiles.refresh(origin.actor, self.fetch_profile)

    def profile_due(self, actor: Actor) -> bool:
        """Whether to have the profile service look at this actor now.

        The service decides from the database whether the profile is stale, but asking costs a
        transaction, and it runs beside the next request: someone paging through results or
        sending a burst of commands needs it asked once, not every time (and a users.info that
        fails is not retried on every command either).
        """
        now = time.monotonic()
        checked = self._profiles_checked.get(actor.user_id)
        if checked is not None and now - checked < PROFILE_CHECK_SECONDS:
            return False
        if len(self._profiles_checked) >= MAX_PROFILES_CHECKED:
            self._profiles_checked.clear()
        self._profiles_checked[actor.user_id] = now
        return True

    async def within_budget(self, inp: Input) -> tuple[asyncio.Task[Outcome], bool]:
        """Dispatch `inp`, waiting at most the ack budget; returns the task and whether it finished."""
        work = asyncio.create_task(self.bot.dispatcher.dispatch(inp))
        await asyncio.wait({work}, timeout=self.budget)
        return work, work.done()

    # -- listeners (bolt injects the arguments by name) ---------------------------------------------

    async def on_command(self, ack: AsyncAck, command: dict[str, Any]) -> BoltResponse | None:
        actor = Actor(PLATFORM, command["user_id"], command.get("user_name", ""))
        origin = Origin(actor, command.get("channel_id", ""), command.get("response_url", ""),
                        command.get("trigger_id", ""))
        name = str(command.get("command", "")).lstrip("/").lower()
        inp = Command(name, str(command.get("text", "")).strip(), actor, channel=origin.channel,
                      delivery_id=request_key() or f"slack:{uuid.uuid4().hex}")
        work, done = await self.within_budget(inp)
        outcome = work.result() if done else None
        if isinstance(outcome, Reply) and outcome.audience is not Audience.GROUP:
            await ack(message(outcome, self.t))
            self.background(self.follow_up(None, origin), f"after /{name}")
            return None
        if done:
            await ack()  # a modal, a group conversation: opened right after the ack
        else:
            if (entry := await self.keep_late(inp, origin)) is None:
                return BoltResponse(status=503)
            await ack(text=escape(self.t("slack.please_wait")), response_type="ephemeral")
            self.background(self.finish_late(work, entry, origin), f"after /{name}")
            return None
        self.background(self.follow_up(work, origin), f"after /{name}")
        return None

    async def on_action(self, ack: AsyncAck, body: dict[str, Any]) -> BoltResponse | None:
        """Presses are kept in the inbox (group-committed) before the ack and handled after it."""
        actor = _actor(body.get("user") or {})
        origin = Origin(actor, str((body.get("channel") or {}).get("id", "")), body.get("response_url", ""),
                        body.get("trigger_id", ""))
        actions: list[KeptInput] = [
            Action(pressed_action(str(pressed.get("action_id", ""))), str(pressed.get("value", "")), actor,
                   channel=origin.channel, pressed_at=slack_time(pressed.get("action_ts")),
                   delivery_id=request_key(number))
            for number, pressed in enumerate(body.get("actions", []))]
        if (entry := await self.keep(actions, origin)) is None:
            return BoltResponse(status=503)  # not acknowledged: Slack tells the person it did not work
        await ack()
        self.background(self.handle_kept(entry, actions, origin), f"after press {entry}")
        return None

    async def on_submission(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> BoltResponse | None:
        actor = _actor(body.get("user") or {})
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            metadata = {}
        channel = str(metadata.get("channel", ""))
        origin = Origin(actor, channel, trigger_id=body.get("trigger_id", ""))
        submission = FormSubmission(str(view.get("callback_id", "")), form_values(view), actor,
                                    state=str(metadata.get("state", "")), channel=channel,
                                    delivery_id=request_key() or f"slack:{uuid.uuid4().hex}")
        work, done = await self.within_budget(submission)
        if done and isinstance(outcome := work.result(), FormRejected) and outcome.errors:
            await ack(response_action="errors", errors=form_errors(outcome, view))
            return None
        if not done:
            if (entry := await self.keep_late(submission, origin)) is None:
                return BoltResponse(status=503)
            await ack()
            self.background(self.finish_late(work, entry, origin), f"after form {submission.form_id}")
            return None
        await ack()  # closes the modal; what it changed is committed
        self.background(self.follow_up(work, origin), f"after form {submission.form_id}")
        return None

    # -- edge (issue 14): acknowledged means durable; see bot/inbox.py --------------------------------

    async def keep(self, inputs: list[KeptInput], origin: Origin) -> int | None:
        """The inputs written to the inbox (None when the database cannot take them: then no ack)."""
        try:
            return await self.inbox.keep(PLATFORM, request_key(), inputs, {"origin": dataclasses.asdict(origin)})
        except Exception as error:
            log.warning("could not keep %d input(s) in the inbox, not acknowledged: %s", len(inputs), error)
            return None

    async def keep_late(self, inp: KeptInput, origin: Origin) -> int | None:
        """A command or form still being handled when the ack budget ran out: kept before the ack, with the
        delivery id its handling claims, so whichever commits first (it or, after a crash, the leftover) counts."""
        return await self.keep([inp], origin)

    async def finish_late(self, work: asyncio.Task[Outcome], entry: int, origin: Origin) -> None:
        await self.follow_up(work, origin)
        await self.inbox.done(entry)

    async def handle_kept(self, entry: int, inputs: list[KeptInput], origin: Origin) -> None:
        """Handle the inputs of one inbox row in order, deliver their outcomes, then forget the row.

        A few rows at a time (`inbox.lane`), so a burst waits in the inbox rather than in a pile of
        transactions that lock each other out; a database that is away is waited for (the row stays
        for the next start when it does not come back)."""
        for number, inp in enumerate(inputs):
            keyed = inp if inp.delivery_id else dataclasses.replace(inp, delivery_id=f"inbox:{entry}:{number}")
            async with self.inbox.lane():
                work = asyncio.create_task(self.inbox.patiently(self.bot.dispatcher.dispatch_kept, keyed))
                await asyncio.wait({work})
            if work.exception() is not None:
                log.warning("inbox entry %s left for the next start: %s", entry, work.exception())
                return
            await self.follow_up(work, origin)
        await self.inbox.done(entry)

    async def handle_leftovers(self) -> None:
        """On start: what was acknowledged before a crash (or by an instance that stopped) and not handled."""
        leftovers = await self.inbox.waiting(PLATFORM)
        if leftovers:
            log.info("handling %d input(s) acknowledged before the last stop", len(leftovers))
        for left in leftovers:
            await self.handle_kept(left.entry, left.inputs, Origin.from_json(left.extra["origin"]))

    async def on_message(self, ack: AsyncAck, body: dict[str, Any], event: dict[str, Any],
                         context: AsyncBoltContext) -> None:
        await ack()
        inp = channel_message(event, str(body.get("event_id", "")), context.bot_user_id)
        if inp is None:
            return
        origin = Origin(inp.actor, inp.channel, thread_ts=inp.thread_id or inp.message_id)
        self.background(self.follow_up(asyncio.create_task(self.bot.dispatcher.dispatch(inp)), origin),
                        f"after message {inp.delivery_id}")

    async def on_reaction(self, ack: AsyncAck, body: dict[str, Any], event: dict[str, Any],
                          context: AsyncBoltContext) -> None:
        """A reaction under a message: acknowledged at once; the message is read after the ack."""
        await ack()
        item: dict[str, Any] = event.get("item") or {}
        user = str(event.get("user") or "")
        channel, ts = str(item.get("channel") or ""), str(item.get("ts") or "")
        if item.get("type") != "message" or not user or user == context.bot_user_id or not channel or not ts:
            return
        delivery_id = str(body.get("event_id", ""))
        self.background(self.react(emoji(str(event.get("reaction") or "")), Actor(PLATFORM, user), channel, ts,
                                   delivery_id), f"after reaction {delivery_id}")

    # -- circle membership (who is in the circles' channels) ---------------------------------------------

    async def on_membership(self, ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        await ack()
        change = MembershipChanged(PLATFORM, str(event.get("channel") or ""), str(event.get("user") or ""),
                                   joined=event.get("type") == "member_joined_channel",
                                   delivery_id=str(body.get("event_id", "")))
        self.background(self.bot.dispatcher.membership(change), f"membership {change.delivery_id}")

    async def sync_circles(self) -> None:
        """The members of the circles' channels as Slack lists them (conversations.members, paged); at start."""
        for role in CIRCLE_ROLES:
            channel, members, cursor = self.bot.settings.channel(role, PLATFORM), [], ""
            try:
                while channel:
                    page = await self.client.conversations_members(channel=channel, cursor=cursor or None, limit=200)
                    members += [str(m) for m in page.get("members") or []]
                    if not (cursor := str((page.get("response_metadata") or {}).get("next_cursor") or "")):
                        await self.bot.dispatcher.membership(MembershipChanged(PLATFORM, channel,
                                                                               members=tuple(members)))
                        break
            except (SlackApiError, ClientError) as error:
                log.warning("members of the %s channel not read: %s", role, _slack_error(error))

    async def react(self, reacted: str, actor: Actor, channel: str, ts: str, delivery_id: str) -> None:
        """Read the message under the reaction and its link, dispatch the Reaction, deliver its outcome
        (THREAD: in the thread of that message)."""
        message, link = await asyncio.gather(self.fetch_message(channel, ts), self.fetch_permalink(channel, ts))
        found = message or {}
        author = str(found.get("user") or "")
        thread = str(found.get("thread_ts") or "")
        inp = Reaction(reacted, actor, channel, message_id=ts, message_text=str(found.get("text") or ""),
                       message_author=None if found.get("bot_id") or not author else Actor(PLATFORM, author),
                       link=link, thread_id="" if thread == ts else thread, delivery_id=delivery_id)
        await self.follow_up(asyncio.create_task(self.bot.dispatcher.dispatch(inp)),
                             Origin(actor, channel, thread_ts=inp.thread_id or ts))

    async def fetch_message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message `ts` in `channel`: conversations.history holds it unless it is a thread reply, then
        conversations.replies does. None when Slack does not give it (missing scope, deleted, not in channel)."""
        try:
            history = await self.client.conversations_history(channel=channel, latest=ts, oldest=ts, inclusive=True,
                                                              limit=1)
            found = next((m for m in history.get("messages") or [] if m.get("ts") == ts), None)
            if found is None:
                # a reply's ts gives its thread; with the parent always first, two are enough to hold it
                thread = await self.client.conversations_replies(channel=channel, ts=ts, oldest=ts, inclusive=True,
                                                                 limit=2)
                found = next((m for m in thread.get("messages") or [] if m.get("ts") == ts), None)
        except (SlackApiError, ClientError, OSError, TimeoutError) as error:
            log.warning("could not read message %s in %s: %s", ts, channel, _slack_error(error))
            return None
        if found is None:
            log.warning("message %s in %s not found", ts, channel)
            return None
        return dict(found)

    async def fetch_permalink(self, channel: str, ts: str) -> str:
        """chat.getPermalink of the message, or "" when Slack does not give one."""
        try:
            response = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
        except (SlackApiError, ClientError, OSError, TimeoutError) as error:
            log.warning("no permalink for message %s in %s: %s", ts, channel, _slack_error(error))
            return ""
        return str(response.get("permalink") or "")

    # -- delivering after the ack -------------------------------------------------------------------

    async def deliver(self, outcome: Outcome, origin: Origin) -> None:
        if outcome is None:
            return
        if isinstance(outcome, Form):
            await self.client.views_open(trigger_id=origin.trigger_id, view=modal(outcome, self.t, origin.channel))
            return
        if isinstance(outcome, FormRejected):  # only when a submission outlived the ack budget
            outcome = Reply.text("\n".join(outcome.errors.values()), error=True)
        if outcome.audience is Audience.GROUP:
            await self.open_group(outcome, origin)
        elif origin.response_url:
            await self.respond(origin.response_url, outcome)
        elif outcome.audience in (Audience.CHANNEL, Audience.THREAD) and origin.channel:
            text, blocks = render(outcome, self.t)
            thread = origin.thread_ts if outcome.audience is Audience.THREAD else None
            await self.client.chat_postMessage(channel=origin.channel, text=text, blocks=blocks, thread_ts=thread)
        else:
            await self.tell(origin, outcome)

    async def respond(self, response_url: str, reply: Reply) -> None:
        body = message(reply, self.t) | {"replace_original": reply.replace_original}
        response = await AsyncWebhookClient(response_url, retry_handlers=retry_handlers()).send_dict(body)
        if response.status_code != 200:
            log.warning("response_url answered %s: %s", response.status_code, response.body)

    async def tell(self, origin: Origin, reply: Reply) -> None:
        """Only for the actor: ephemeral in the channel, or in their DM with the bot when that fails."""
        text, blocks = render(reply, self.t)
        if origin.channel:
            try:
                await self.client.chat_postEphemeral(channel=origin.channel, user=origin.actor.user_id, text=text,
                                                     blocks=blocks)
                return
            except SlackApiError as error:  # e.g. not_in_channel: the bot is not a member there
                log.info("ephemeral in %s failed (%s); sending a DM", origin.channel, error.response.get("error"))
        await self.client.chat_postMessage(channel=origin.actor.user_id, text=text, blocks=blocks)

    async def open_group(self, reply: Reply, origin: Origin) -> None:
        """A new conversation of the actor, the others in `reply.group` and the bot."""
        others = [uid for m in reply.group if (uid := m.user_id(PLATFORM)) and uid != origin.actor.user_id]
        opened = await self.client.conversations_open(users=",".join([origin.actor.user_id, *others]))
        text, blocks = render(reply, self.t)
        await self.client.chat_postMessage(channel=opened["channel"]["id"], text=text, blocks=blocks)

    async def send(self, channel: str, reply: Reply) -> str:
        """The outbox's way out (bot/outbox.py): one chat.postMessage (in the thread of `reply.thread` when
        set), its failure sorted into later or never."""
        target = await self.target(channel)
        text, blocks = render(reply, self.t)
        thread = reply.thread.rpartition("/")[2] or None
        outbox = sending()
        if outbox is not None and outbox.resend and (found := await self.find_sent(target, thread, outbox)):
            log.info("outbox message %s was taken before the crash: %s, not sent again", outbox.message_id, found)
            return found
        async with self.sorted_failures():
            response = await self.outbox_client.chat_postMessage(channel=target, text=text, blocks=blocks,
                                                                 thread_ts=thread, metadata=outbox_mark(outbox))
        return f"{response.get('channel', target)}/{response.get('ts', '')}"

    async def find_sent(self, target: str, thread: str | None, outbox: Sending) -> str | None:
        """The ref of the message marked with this outbox message's id, when Slack has it (edge, issue 14).

        Read with include_all_metadata from the newest 200 messages of the conversation (or the thread's
        first 200: the outbox waits at most minutes before trying again, not hundreds of messages). Slack
        busy or away: DeliveryDelayed (look again later rather than risk a second post); refused (no
        history scope): logged, and posted (a rare double is better than a message never sent)."""
        try:
            async with self.sorted_failures():
                channel = target
                if USER_ID.fullmatch(target):  # a DM: its conversation id
                    channel = str((await self.outbox_client.conversations_open(users=target))["channel"]["id"])
                if thread:
                    found = await self.outbox_client.conversations_replies(
                        channel=channel, ts=thread, include_all_metadata=True, limit=200)
                else:
                    found = await self.outbox_client.conversations_history(
                        channel=channel, include_all_metadata=True, limit=200)
        except DeliveryRefused as refused:
            log.warning("could not look for outbox message %s before sending it again: %s", outbox.message_id, refused)
            return None
        mark = outbox_mark(outbox)
        for posted in found.get("messages") or []:
            if posted.get("metadata") == mark:
                return f"{channel}/{posted.get('ts', '')}"
        return None

    async def update(self, channel: str, ref: str, reply: Reply) -> None:
        """Replace a message `send` posted (a vote's tally): chat.update of its channel and ts."""
        posted_in, _, ts = ref.rpartition("/")
        text, blocks = render(reply, self.t)
        async with self.sorted_failures():
            await self.outbox_client.chat_update(channel=posted_in, ts=ts, text=text, blocks=blocks)

    async def target(self, channel: str) -> str:
        """A channel role as its channel id; `member:<id>` as the member's Slack user id (their DM with the app)."""
        if channel.startswith("member:"):
            user = await account_of(self.bot.db, channel, PLATFORM)
            if user is None:
                raise DeliveryRefused(self.t("slack.member_not_on_slack"))
            return user
        target = self.bot.settings.channel(channel)
        if not target:
            raise DeliveryRefused(self.t("slack.channel_not_set", role=channel))
        return target

    @contextlib.asynccontextmanager
    async def sorted_failures(self) -> AsyncIterator[None]:
        """Slack's answers as the outbox reads them: 429, 5xx and no connection are for later; the rest never."""
        try:
            yield
        except SlackApiError as error:
            code = str(error.response.get("error", ""))
            if error.response.status_code == 429 or error.response.status_code >= 500 or code in TRANSIENT_ERRORS:
                raise DeliveryDelayed(f"Slack {error.response.status_code} {code}", retry_after(error)) from error
            raise DeliveryRefused(f"Slack refused: {code}") from error
        except (ClientError, OSError, TimeoutError) as error:
            raise DeliveryDelayed(f"Slack unreachable: {error!r}") from error

    async def fetch_profile(self, user_id: str) -> Profile | None:
        """The Slack profile (users.info), or None when Slack cannot tell us now."""
        try:
            response = await self.client.users_info(user=user_id)
        except (SlackApiError, ClientError, TimeoutError) as error:
            log.warning("users.info for %s failed: %s", user_id, error)
            return None
        user: dict[str, Any] = response.get("user") or {}
        profile: dict[str, Any] = user.get("profile") or {}
        name = profile.get("real_name") or profile.get("display_name") or user.get("real_name") or user.get("name")
        return Profile(name=str(name or ""), title=str(profile.get("title") or ""),
                       email=str(profile.get("email") or ""))

    # -- HTTP ---------------------------------------------------------------------------------------

    async def handle_events(self, request: web.Request) -> web.Response:
        return await self.door.handle(request)

    async def healthz(self, request: web.Request) -> web.Response:
        """200 when the database answers a `SELECT 1` within 2 seconds, else 503."""
        try:
            async with asyncio.timeout(2), self.bot.db.engine.connect() as connection:
                await connection.execute(sql("SELECT 1"))
        except Exception as error:
            log.warning("health check: database unavailable: %s", error)
            return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
        return web.json_response({"status": "ok", "database": "ok"})

    async def calendar(self, request: web.Request) -> web.Response:
        """A series' iCalendar feed, for Outlook and the like; 404 for a wrong token or series (same answer)."""
        secret = self.bot.settings.calendar_token
        token = request.match_info["token"].encode()
        if secret is None or not hmac.compare_digest(token, secret.get_secret_value().encode()):
            raise web.HTTPNotFound()
        async with self.bot.db.transaction() as repos:
            feed = await self.bot.meetings.ical_feed(repos, request.match_info["series"], self.bot.clock.now())
        if feed is None:
            raise web.HTTPNotFound()
        return web.Response(body=feed, content_type="text/calendar", charset="utf-8",
                            headers={"Cache-Control": "private, max-age=300"})

    def web_app(self, *, events: bool = True) -> web.Application:
        """The aiohttp application: `POST /slack/events` (unless Socket Mode carries them), `GET /healthz`,
        and the calendar feeds when NETWERKBOT_CALENDAR_TOKEN is set.

        Not started here: `serve` runs it, tests run it on a random port. On shutdown it waits for
        the background work of requests already answered.
        """
        app = web.Application()
        if events:
            app.router.add_post(EVENTS_PATH, self.handle_events)
        app.router.add_get(HEALTH_PATH, self.healthz)
        add_metrics_routes(app, self.bot)  # GET /metrics, /healthz/live, /healthz/ready (bot/metrics.py)
        if self.bot.settings.calendar_token is not None:
            app.router.add_get(CALENDAR_PATH, self.calendar)

        async def finish_background(_: web.Application) -> None:
            await self.drain()

        async def handle_leftovers(_: web.Application) -> None:
            self.background(self.handle_leftovers(), "inbox leftovers")

        app.on_startup.append(handle_leftovers)
        app.on_shutdown.append(finish_background)
        return app


# -- serving ------------------------------------------------------------------------------------------


async def serve(bot: Bot, port: int) -> int:
    """`netwerkbot slack`: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on `port`; runs until a signal."""
    missing = missing_settings(bot.settings)
    if missing:
        print(bot.catalog("slack.missing_settings", names=", ".join(missing)), file=sys.stderr)
        return 2
    await bot.start()
    adapter = SlackAdapter(bot)
    await bot.keep_time(adapter, PLATFORM)
    adapter.background(adapter.sync_circles(), "circle members")
    app_token = bot.settings.slack_app_token
    socket = AsyncSocketModeHandler(adapter.app, app_token.get_secret_value()) if app_token else None
    runner = web.AppRunner(adapter.web_app(events=socket is None))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await runner.setup()
        await web.TCPSite(runner, port=port).start()
        if socket is not None:
            await socket.connect_async()  # type: ignore[no-untyped-call]
            log.info("connected to Slack in Socket Mode; health on port %s%s", port, HEALTH_PATH)
        else:
            log.info("listening on port %s: POST %s, GET %s", port, EVENTS_PATH, HEALTH_PATH)
        await stop.wait()
        log.info("stopping")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        if socket is not None:
            with contextlib.suppress(Exception):
                await socket.close_async()  # type: ignore[no-untyped-call]
        await runner.cleanup()
        await adapter.drain()
        await bot.stop()
    return 0
