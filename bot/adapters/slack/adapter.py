"""The Slack adapter: bolt's listeners turned into inputs, their outcomes delivered, and the outbox's way out.

Slack wants an acknowledgement within 3 seconds, and a quick answer is best sent *in* it: the
person sees it at once, and no Web API call (with its rate limits) is spent. So the app runs with
`process_before_response=True`: a slash command is dispatched while Slack waits, and when it is
done within `ack_budget_seconds` its reply is the ack's body; otherwise the ack says "even
geduld" and the reply follows through the command's `response_url`. (Bolt's default mode would
run the listener beside the request and poll for the ack every 10 ms, which costs every request
those milliseconds.)

Everything slow happens after the ack in background tasks (bot/adapters/base.py) that shutdown
waits for: opening a modal, opening a group conversation, posting, uploading files, fetching
profiles. Button presses and events are acknowledged at once and handled after. Events carry
Slack's `event_id` as the delivery id, so a retried event is handled once (the dispatcher claims
it). A reaction names only its message (channel and ts); after the ack the adapter reads the
message (conversations.history, or .replies for a thread reply) and its permalink, so a feature
gets its text, author and link; when Slack does not tell (no scope, message gone) the text stays
empty. A person's first input waits for their profile (users.info) so they are never shown by
their login handle.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import ClientError, web
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.adapters.base import AdapterBase
from bot.adapters.slack.events import (
    PLATFORM,
    Origin,
    channel_message,
    emoji,
    interaction_actor,
    slack_time,
)
from bot.adapters.slack.guard import SlackDoor, SlackGuard, request_key
from bot.adapters.slack.home import HomeAndShortcuts, results_view
from bot.adapters.slack.kept import KeptInputs
from bot.adapters.slack.render import (
    USER_ID,
    ack_body,
    escape,
    files_of,
    form_errors,
    form_values,
    message,
    modal,
    pressed_action,
    render,
)
from bot.core.inputs import Action, Actor, Command, FormSubmission, Input, MembershipChanged, Reaction
from bot.core.port import DeliveryDelayed, DeliveryRefused, Kept, Port, Profile, Sending, sending
from bot.core.reply import Audience, Form, FormRejected, Outcome, Reply
from config.settings import CIRCLE_ROLES, Settings

log = logging.getLogger(__name__)

# chat.postMessage errors that pass (Slack's side is busy or briefly inconsistent): the outbox tries again
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                              "request_timeout"})


def retry_handlers() -> list[AsyncRetryHandler]:
    """Retry what Slack asks us to retry: 429 after its Retry-After, 5xx and lost connections with backoff."""
    return [AsyncRateLimitErrorRetryHandler(max_retry_count=3), AsyncServerErrorRetryHandler(max_retry_count=3),
            AsyncConnectionErrorRetryHandler(max_retry_count=2)]


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


def _slack_error(error: Exception) -> str:
    """Slack's error code (`missing_scope`, `thread_not_found`) or what went wrong on the way."""
    return str(error.response.get("error", "")) if isinstance(error, SlackApiError) else repr(error)


def outbox_mark(outbox: Sending | None) -> dict[str, Any] | None:
    """The message metadata that says which outbox message a post is (edge, issue 14)."""
    if outbox is None:
        return None
    return {"event_type": "netwerkbot_outbox", "event_payload": {"outbox_id": outbox.message_id}}


class SlackAdapter(AdapterBase[Origin], KeptInputs, HomeAndShortcuts):
    """One bolt `AsyncApp` wired to the bot's port; `web_app()` serves it over HTTP (bot/adapters/slack/serving.py)."""

    platform = PLATFORM

    def __init__(self, port: Port, *, client: AsyncWebClient | None = None) -> None:
        super().__init__(port)
        settings = port.settings
        if missing_settings(settings):
            raise ValueError(f"missing Slack settings: {missing_settings(settings)}")
        assert settings.slack_bot_token is not None and settings.slack_signing_secret is not None
        self.budget = settings.ack_budget_seconds
        self.client = client or AsyncWebClient(token=settings.slack_bot_token.get_secret_value(),
                                               base_url=settings.slack_api_url, retry_handlers=retry_handlers())
        # the outbox retries by itself, with backoff kept in the database: this client must not wait
        self.outbox_client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(),
                                            base_url=settings.slack_api_url, retry_handlers=[])
        self.app = AsyncApp(client=self.client, signing_secret=settings.slack_signing_secret.get_secret_value(),
                            process_before_response=True, name="netwerkbot",
                            request_verification_enabled=False)  # the door verifies, before parsing
        # edge (issue 14): signature first, then the payload's schema; see bot/adapters/slack/guard.py
        self.door = SlackDoor(SlackGuard(settings.slack_signing_secret.get_secret_value()), self.app,
                              lambda: self.t("edge.malformed"), lambda user: port.expect_input(Actor(PLATFORM, user)))
        self.inbox = port.new_inbox()  # edge (issue 14): what is acked before it is handled
        any_id = re.compile(r".*")
        self.app.command(any_id)(self.on_command)
        self.app.block_action(any_id)(self.on_action)
        self.app.view_submission(any_id)(self.on_submission)
        self.app.event("message")(self.on_message)
        self.app.event("reaction_added")(self.on_reaction)
        self.app.event("member_joined_channel")(self.on_membership)
        self.app.event("member_left_channel")(self.on_membership)
        self.listen_home_and_shortcuts()  # issue 17: bot/adapters/slack/home.py

    def web_app(self, *, events: bool = True) -> web.Application:
        """The aiohttp application (bot/adapters/slack/serving.py): events, health, calendar feeds."""
        from bot.adapters.slack.serving import web_app

        return web_app(self, events=events)

    # -- after the ack --------------------------------------------------------------------------------

    async def follow_up(self, outcome: asyncio.Future[Outcome] | None, origin: Origin,
                        files_of_ack: Reply | None = None) -> None:
        """After the ack: deliver what was not in it (the files of a reply that was), then refresh the
        actor's profile."""
        try:
            if outcome is not None:
                await self.deliver(await outcome, origin)
            elif files_of_ack is not None:
                await self.upload(files_of_ack, origin)
        except SlackApiError as error:  # Slack refused (e.g. an expired trigger_id): no bug of ours
            log.warning("could not deliver the answer to %s: %s", origin.actor.user_id, _slack_error(error))
        except Exception:
            log.exception("could not deliver the answer to %s", origin.actor.user_id)
        self.refresh_profile_later(origin.actor)

    async def within_budget(self, inp: Input) -> tuple[asyncio.Task[Outcome], bool]:
        """Dispatch `inp`, waiting at most the ack budget; returns the task and whether it finished."""
        work = asyncio.create_task(self.dispatch(inp))
        await asyncio.wait({work}, timeout=self.budget)
        return work, work.done()

    # -- listeners (bolt injects the arguments by name) ---------------------------------------------

    async def on_command(self, ack: AsyncAck, command: dict[str, Any]) -> BoltResponse | None:
        actor = Actor(PLATFORM, command["user_id"], command.get("user_name", ""))
        origin = Origin(actor, command.get("channel_id", ""), command.get("response_url", ""),
                        command.get("trigger_id", ""))
        name = str(command.get("command", "")).lstrip("/").lower()
        inp = Command(name, str(command.get("text", "")).strip(), actor, channel=origin.channel,
                      delivery_id=request_key() or f"slack:{uuid.uuid4().hex}", redelivered=False)
        work, done = await self.within_budget(inp)
        outcome = work.result() if done else None
        if isinstance(outcome, Reply) and outcome.audience is not Audience.GROUP:  # the reply is the ack's body
            if files_of(outcome):
                self.background(self.follow_up(None, origin, outcome), f"after /{name}")
            else:  # nothing to deliver after it: no task of its own (issue 19)
                self.refresh_profile_later(origin.actor)
            return BoltResponse(status=200, body=ack_body(outcome, self.t))
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
        actor = interaction_actor(body.get("user") or {})
        origin = Origin(actor, str((body.get("channel") or {}).get("id", "")), body.get("response_url", ""),
                        body.get("trigger_id", ""))
        actions: list[Kept] = [
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
        actor = interaction_actor(body.get("user") or {})
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            metadata = {}
        channel = str(metadata.get("channel", ""))
        origin = Origin(actor, channel, trigger_id=body.get("trigger_id", ""))
        submission = FormSubmission(str(view.get("callback_id", "")), form_values(view), actor,
                                    state=str(metadata.get("state", "")), channel=channel,
                                    delivery_id=request_key() or f"slack:{uuid.uuid4().hex}",
                                    redelivered=False)
        work, done = await self.within_budget(submission)
        if done and isinstance(outcome := work.result(), FormRejected) and outcome.errors:
            await ack(response_action="errors", errors=form_errors(outcome, view))
            return None
        if done and isinstance(outcome, Reply) and outcome.replace_original:  # results shown in the modal
            await ack(response_action="update", view=results_view(view, outcome, self.t))
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

    async def on_message(self, ack: AsyncAck, body: dict[str, Any], event: dict[str, Any],
                         context: AsyncBoltContext) -> None:
        await ack()
        inp = channel_message(event, str(body.get("event_id", "")), context.bot_user_id)
        if inp is None:
            return
        origin = Origin(inp.actor, inp.channel, thread_ts=inp.thread_id or inp.message_id)
        self.background(self.follow_up(asyncio.create_task(self.dispatch(inp)), origin),
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
        self.background(self.port.membership(change), f"membership {change.delivery_id}")

    async def sync_circles(self) -> None:
        """The members of the circles' channels as Slack lists them (conversations.members, paged); at start."""
        for role in CIRCLE_ROLES:
            channel, members, cursor = self.port.settings.channel(role, PLATFORM), [], ""
            try:
                while channel:
                    page = await self.client.conversations_members(channel=channel, cursor=cursor or None, limit=200)
                    members += [str(m) for m in page.get("members") or []]
                    if not (cursor := str((page.get("response_metadata") or {}).get("next_cursor") or "")):
                        await self.port.membership(MembershipChanged(PLATFORM, channel, members=tuple(members)))
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
        authors = (inp.message_author,) if inp.message_author is not None else ()
        await self.follow_up(asyncio.create_task(self.dispatch(inp, *authors)),
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

    # -- delivering after the ack (the table of bot/adapters/base.py) ------------------------------------

    async def deliver_form(self, form: Form, origin: Origin) -> None:
        await self.client.views_open(trigger_id=origin.trigger_id, view=modal(form, self.t, origin.channel))

    async def deliver_reply(self, reply: Reply, origin: Origin) -> None:
        text, blocks = render(reply, self.t)
        if reply.audience is Audience.GROUP:
            channel = await self.open_group(reply, origin)
            await self.upload(reply, origin, channel)
            return
        if not blocks and files_of(reply):
            pass  # only files: nothing to say beside them
        elif origin.response_url:
            await self.respond(origin.response_url, reply)
        elif reply.audience in (Audience.CHANNEL, Audience.THREAD) and origin.channel:
            thread = origin.thread_ts if reply.audience is Audience.THREAD else None
            await self.client.chat_postMessage(channel=origin.channel, text=text, blocks=blocks, thread_ts=thread)
        else:
            await self.tell(origin, reply)
        await self.upload(reply, origin)

    async def upload(self, reply: Reply, origin: Origin, channel: str = "") -> None:
        """The reply's files (files.uploadV2): where the reply was shown to all, else in the actor's direct
        conversation with the bot (an upload is never private to one person in a shared channel)."""
        files = files_of(reply)
        if not files:
            return
        thread = origin.thread_ts if reply.audience is Audience.THREAD else None
        if not channel:
            shared = reply.audience in (Audience.CHANNEL, Audience.THREAD) and origin.channel
            channel = origin.channel if shared else await self.direct_conversation(origin.actor.user_id)
        await self.client.files_upload_v2(channel=channel, thread_ts=thread, file_uploads=[
            {"content": f.data, "filename": f.name, "title": f.title or f.name} for f in files])

    async def direct_conversation(self, user_id: str) -> str:
        opened = await self.client.conversations_open(users=user_id)
        return str(opened["channel"]["id"])

    async def respond(self, response_url: str, reply: Reply) -> None:
        body = message(reply, self.t) | {"replace_original": reply.replace_original}
        hook = AsyncWebhookClient(response_url, session=self.client.session, retry_handlers=retry_handlers())
        response = await hook.send_dict(body)
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

    async def open_group(self, reply: Reply, origin: Origin) -> str:
        """A new conversation of the actor, the others in `reply.group` and the bot; its channel id."""
        others = [uid for m in reply.group if (uid := m.user_id(PLATFORM)) and uid != origin.actor.user_id]
        opened = await self.client.conversations_open(users=",".join([origin.actor.user_id, *others]))
        text, blocks = render(reply, self.t)
        channel = str(opened["channel"]["id"])
        await self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        return channel

    # -- the outbox's way out (bot/outbox.py) ----------------------------------------------------------

    async def send(self, channel: str, reply: Reply) -> str:
        """One chat.postMessage (in the thread of `reply.thread` when set), its files after it; a failure
        sorted into later or never."""
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
            files = files_of(reply)
            if files:
                posted_in = str(response.get("channel", target))
                await self.outbox_client.files_upload_v2(channel=posted_in, thread_ts=thread, file_uploads=[
                    {"content": f.data, "filename": f.name, "title": f.title or f.name} for f in files])
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
            return await self.member_account(channel, "slack.member_not_on_slack")
        target = self.port.settings.channel(channel)
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
        except (ClientError, OSError, TimeoutError, SlackRequestError) as error:  # (a file's upload URL failing too)
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
