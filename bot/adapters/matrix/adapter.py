"""Matrix: a matrix-nio client that syncs, turns room events into inputs, and renders replies.

One long-polling `/sync` loop. Each sync's events are handled (rooms side by side, a room's events in
order) before its `next_batch` is written to the database, so a restart continues where the last
handled sync ended: nothing is replayed and nothing missed; each event id is also the delivery id
the dispatcher claims, so an event is handled once even if a sync is repeated. The very first sync
only takes the position: the bot does not answer history, nor events from before it joined a room.

Matrix has no ephemeral messages, no buttons and no modals, so:
- an answer for the actor is a reply (`m.in_reply_to`) in the room; private ones (what a poll
  response did, a secret ballot) go to the actor's direct room with the bot;
- buttons are numbered commands (`!1`, `!2`), remembered in the database per room (and person);
- an open vote is a native poll whose responses are button presses; a secret one is cast in the
  direct room with `!stem <code> <number>`;
- a form is a dialog in the direct room, one field at a time (kept in memory: after a restart the
  person is asked to start again).

End-to-end encryption is nio's (bot/adapters/matrix/crypto.py): a sync's events arrive decrypted, what
the bot sends to an encrypted room goes out encrypted, and the rooms it opens are encrypted.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientError
from nio import (
    AsyncClient,
    AsyncClientConfig,
    JoinError,
    ProfileGetResponse,
    RoomCreateError,
    RoomGetEventResponse,
    RoomPreset,
    RoomSendResponse,
    UploadResponse,
)

from bot.adapters.base import AdapterBase
from bot.adapters.matrix import crypto, outgoing, sync
from bot.adapters.matrix.forms import FormDialogs
from bot.adapters.matrix.render import (
    POLL_RESPONSES,
    answer_index,
    ballot_of,
    file_content,
    files_of,
    matrix_to,
    poll_answers,
    render,
)
from bot.adapters.matrix.state import MatrixState
from bot.adapters.matrix.sync import sorted_error as sorted_error  # named here too
from bot.adapters.matrix.transactions import transaction_id
from bot.core.inputs import Action, Actor, Change, ChannelMessage, Command, Input, MembershipChanged, Reaction
from bot.core.numbers import id_of, number_of
from bot.core.port import DeliveryDelayed, Port, Profile
from bot.core.reply import (
    Audience,
    Ballot,
    Button,
    File,
    Form,
    Reply,
)

log = logging.getLogger(__name__)

PLATFORM = "matrix"
PREFIX = "!"
SYNC_TIMEOUT_MS = 30_000
SEEN_EVENTS = 10_000
HELP_ALIASES = {"help": "netwerkbot", "hulp": "netwerkbot"}


@dataclass(frozen=True)
class Origin:
    """Where an input came from, so its answer goes back there."""

    actor: Actor
    room_id: str
    event_id: str = ""
    thread_id: str = ""
    direct: bool = False  # the actor's direct room with the bot
    private: bool = False  # answer in the direct room even from a shared room (a poll response)


def event_time(event: dict[str, Any]) -> datetime | None:
    ts = event.get("origin_server_ts")
    return datetime.fromtimestamp(ts / 1000, UTC) if isinstance(ts, int) else None


def strip_reply_fallback(body: str) -> str:
    """A reply's body starts with the quoted message (`> <@a:b> …`) and an empty line: drop them."""
    if not body.startswith("> "):
        return body
    lines = body.split("\n")
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).strip()


class MatrixAdapter(AdapterBase[Origin]):
    platform = PLATFORM

    def __init__(self, port: Port, state: MatrixState, *, sync_timeout_ms: int = SYNC_TIMEOUT_MS) -> None:
        super().__init__(port)
        self.state = state
        s = port.settings
        self.user_id = s.matrix_user_id
        self.sync_timeout_ms = sync_timeout_ms
        store = s.matrix_store
        store.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(s.matrix_homeserver, s.matrix_user_id, store_path=str(store), config=crypto.config())
        # the outbox's client gives up at once on 429 and unreachable servers: the outbox retries later; it
        # encrypts with the keys of `client` (crypto.share_state, after the login)
        self.outbox_client = AsyncClient(s.matrix_homeserver, s.matrix_user_id, config=AsyncClientConfig(
            encryption_enabled=False, store_sync_tokens=False, max_limit_exceeded=0, max_timeouts=0,
            request_timeout=30))
        self.crypto = crypto.Crypto(self)
        self.next_batch = ""
        self.device_id = ""
        self.forms = FormDialogs(self.t, self.post, self.dispatch)
        self.direct_rooms: dict[str, str] = {}  # room id → user id, a cache of matrix_direct_rooms
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.circles_read = False  # the circles' rooms' members, read once per start after the first sync
        self.synced = asyncio.Event()  # set after every handled sync, for tests and benchmarks
        self.syncs = 0
        self._dm_lock = asyncio.Lock()

    # -- invitations --------------------------------------------------------------------------------------

    async def on_invite(self, room_id: str, state: list[dict[str, Any]]) -> None:
        mine = next((e for e in state if e.get("type") == "m.room.member" and e.get("state_key") == self.user_id),
                    {})
        inviter = str(mine.get("sender", ""))
        if not self.port.settings.matrix_may_invite(inviter):
            log.info("declining the invitation to %s from %s: not allowed (NETWERKBOT_MATRIX_ALLOWED)",
                     room_id, inviter)
            await self.client.room_leave(room_id)
            return
        joined = await self.client.join(room_id)
        if isinstance(joined, JoinError):
            log.warning("could not join %s: %s", room_id, joined)
            return
        direct = bool((mine.get("content") or {}).get("is_direct"))
        if direct and await self.state.save_direct_room(inviter, room_id, keep=True):
            self.direct_rooms[room_id] = inviter

    # -- events of joined rooms ------------------------------------------------------------------------

    async def on_room(self, room_id: str, events: list[dict[str, Any]], state: list[dict[str, Any]], *,
                      again: bool = False) -> None:
        """A room's events of one sync, in order (decrypted by nio where the room is encrypted); `again`: an
        event decrypted later, when its room key arrived (bot/adapters/matrix/crypto.py)."""
        joins = [i for i, e in enumerate(events) if e.get("type") == "m.room.member"
                 and e.get("state_key") == self.user_id and (e.get("content") or {}).get("membership") == "join"]
        if joins:  # the bot joined in this sync: what came before was said without it
            events = events[joins[-1] + 1:]
        for event in events:
            event_id = str(event.get("event_id", ""))
            sender = str(event.get("sender", ""))
            if not event_id or not sender or sender == self.user_id or (event_id in self.seen and not again):
                continue
            self.seen[event_id] = None
            if len(self.seen) > SEEN_EVENTS:
                self.seen.popitem(last=False)
            await sync.guarded(self, self.on_event, room_id, event)

    async def on_event(self, room_id: str, event: dict[str, Any]) -> None:
        kind = event.get("type")
        sender = str(event["sender"])
        content: dict[str, Any] = event.get("content") or {}
        if kind == "m.room.encrypted":  # nio could not decrypt it: its room key did not reach this device
            await self.crypto.undecryptable(room_id, event)
        elif kind == "m.room.message":
            await self.on_message(room_id, event, content)
        elif kind in POLL_RESPONSES:
            await self.on_poll_response(room_id, event, content)
        elif kind == "m.reaction":
            await self.on_reaction(room_id, event, content)
        elif kind == "m.room.member" and event.get("state_key") and event["state_key"] != self.user_id:
            await self.port.membership(MembershipChanged(
                PLATFORM, room_id, str(event["state_key"]), joined=content.get("membership") == "join",
                delivery_id=str(event["event_id"])))
        elif kind == "m.room.redaction":
            redacts = str(event.get("redacts") or content.get("redacts") or "")
            if redacts and not await self.is_direct(room_id):
                origin = Origin(self.actor(room_id, sender), room_id, str(event["event_id"]))
                await self.run_input(ChannelMessage("", origin.actor, room_id, message_id=redacts,
                                                    delivery_id=str(event["event_id"]), change=Change.DELETED,
                                                    link=matrix_to(room_id, redacts)), origin)

    def actor(self, room_id: str, user_id: str) -> Actor:
        room = self.client.rooms.get(room_id)
        name = room.user_name(user_id) if room is not None else None
        return Actor(PLATFORM, user_id, name or user_id.removeprefix("@").partition(":")[0])

    async def is_direct(self, room_id: str) -> bool:
        if room_id in self.direct_rooms:
            return True
        user = await self.state.direct_user(room_id)
        if user is not None:
            self.direct_rooms[room_id] = user
        return user is not None

    async def on_message(self, room_id: str, event: dict[str, Any], content: dict[str, Any]) -> None:
        sender, event_id = str(event["sender"]), str(event["event_id"])
        relates: dict[str, Any] = content.get("m.relates_to") or {}
        direct = await self.is_direct(room_id)
        actor = self.actor(room_id, sender)
        if relates.get("rel_type") == "m.replace":  # an edit: the new text, under the original's id
            if not direct:
                new: dict[str, Any] = content.get("m.new_content") or {}
                original = str(relates.get("event_id", ""))
                await self.run_input(ChannelMessage(str(new.get("body", "")), actor, room_id, message_id=original,
                                                    delivery_id=event_id, change=Change.EDITED,
                                                    link=matrix_to(room_id, original)),
                                     Origin(actor, room_id, original))
            return
        if content.get("msgtype") not in ("m.text", "m.emote"):
            return  # notices are bots talking; files and images are not for us
        body = strip_reply_fallback(str(content.get("body", ""))).strip()
        thread = str(relates.get("event_id", "")) if relates.get("rel_type") == "m.thread" else ""
        origin = Origin(actor, room_id, event_id, thread, direct)
        if body.startswith(PREFIX) and len(body) > 1 and not body[1].isspace():
            await self.on_command(origin, body[1:], event)
        elif direct:
            dialog = self.forms.of(sender, room_id)
            if dialog is not None:
                await self.deliver(await self.forms.answer(dialog, actor, body, event_id),
                                   Origin(actor, room_id, direct=True))
            else:
                await self.post(room_id, Reply.text(self.t("matrix.no_dialog", p=PREFIX)), for_user=sender)
        else:
            await self.run_input(ChannelMessage(body, actor, room_id, message_id=event_id, thread_id=thread,
                                                delivery_id=event_id, link=matrix_to(room_id, event_id)), origin)

    async def on_command(self, origin: Origin, typed: str, event: dict[str, Any]) -> None:
        word, _, rest = typed.replace("\n", " ").partition(" ")
        name, rest = word.lower(), rest.strip()
        event_id = str(event["event_id"])
        if (number := number_of(name)) is not None and not name.startswith("#"):
            await self.press_number(origin, number, event)
            return
        if name == "stem":
            await self.secret_ballot(origin, rest, event)
            return
        if name in ("stop", "annuleer") and await self.forms.cancel(origin.actor.user_id):
            return
        name = HELP_ALIASES.get(name, name)
        await self.run_input(Command(name, rest, origin.actor, channel=origin.room_id, delivery_id=event_id), origin)

    async def press_number(self, origin: Origin, number: int, event: dict[str, Any]) -> None:
        shown = await self.state.shown_buttons(origin.room_id, origin.actor.user_id)
        if not shown:
            await self.deliver(Reply.text(self.t("matrix.no_buttons"), error=True), origin)
            return
        if not 1 <= number <= len(shown):
            await self.deliver(Reply.text(self.t("matrix.choose_number", max=len(shown)), error=True), origin)
            return
        action_id, value, _ = shown[number - 1]
        await self.run_input(Action(action_id, value, origin.actor, channel=origin.room_id,
                                    delivery_id=str(event["event_id"]), pressed_at=event_time(event)), origin)

    async def secret_ballot(self, origin: Origin, typed: str, event: dict[str, Any]) -> None:
        """`!stem <code> <number>` in the direct room: a press on a secret vote's button."""
        if not origin.direct:
            await self.deliver(Reply.text(self.t("matrix.vote_in_direct"), error=True), Origin(
                origin.actor, origin.room_id, private=True))
            return
        code, _, number = typed.partition(" ")
        poll = await self.state.poll(poll_id) if (poll_id := id_of(code)) is not None else None
        if poll is None or not poll.secret:
            await self.deliver(Reply.text(self.t("matrix.unknown_ballot", p=PREFIX), error=True), origin)
            return
        chosen = number_of(number)
        if chosen is None or not 1 <= chosen <= len(poll.buttons):
            await self.deliver(Reply.text(self.t("matrix.choose_number", max=len(poll.buttons)), error=True), origin)
            return
        action_id, value, _ = poll.buttons[chosen - 1]
        await self.run_input(Action(action_id, value, origin.actor, channel=poll.room_id,
                                    delivery_id=str(event["event_id"]), pressed_at=event_time(event)), origin)

    async def on_poll_response(self, room_id: str, event: dict[str, Any], content: dict[str, Any]) -> None:
        poll_event = str((content.get("m.relates_to") or {}).get("event_id", ""))
        poll = await self.state.poll_by_event(poll_event) if poll_event else None
        answers = poll_answers(content)
        if poll is None or not answers:
            return  # not our poll, or an answer taken back (a ballot stays until replaced)
        indices = [answer_index(a) for a in answers]  # several with max_selections > 1: one press for them all
        origin = Origin(self.actor(room_id, str(event["sender"])), room_id, str(event["event_id"]), private=True)
        if any(i is None or not 0 <= i < len(poll.buttons) for i in indices):
            await self.deliver(Reply.text(self.t("errors.unknown_action"), error=True), origin)
            return
        chosen = [poll.buttons[i] for i in dict.fromkeys(indices) if i is not None]
        value = ",".join(button[1] for button in chosen)
        await self.run_input(Action(chosen[0][0], value, origin.actor, channel=room_id, delivery_id=origin.event_id,
                                    pressed_at=event_time(event)), origin)

    async def on_reaction(self, room_id: str, event: dict[str, Any], content: dict[str, Any]) -> None:
        relates: dict[str, Any] = content.get("m.relates_to") or {}
        target, emoji = str(relates.get("event_id", "")), str(relates.get("key", ""))
        if relates.get("rel_type") != "m.annotation" or not target or not emoji or await self.is_direct(room_id):
            return
        text, author, thread = "", None, ""
        fetched = await self.client.room_get_event(room_id, target)
        if isinstance(fetched, RoomGetEventResponse):
            source: dict[str, Any] = fetched.event.source
            message: dict[str, Any] = source.get("content") or {}
            text = strip_reply_fallback(str(message.get("body", "")))
            author = self.actor(room_id, str(source.get("sender", ""))) if source.get("sender") else None
            rel: dict[str, Any] = message.get("m.relates_to") or {}
            thread = str(rel.get("event_id", "")) if rel.get("rel_type") == "m.thread" else ""
        actor = self.actor(room_id, str(event["sender"]))
        await self.run_input(Reaction(emoji, actor, room_id, target, message_text=text, message_author=author,
                                      link=matrix_to(room_id, target), thread_id=thread,
                                      delivery_id=str(event["event_id"])), Origin(actor, room_id, target, thread))

    async def run_input(self, inp: Input, origin: Origin) -> None:
        await self.deliver(await self.dispatch(inp), origin)
        self.refresh_profile_later(inp.actor)

    async def fetch_profile(self, user_id: str) -> Profile | None:
        """The person's Matrix display name, or None when the homeserver cannot tell us now."""
        try:
            response = await self.client.get_profile(user_id)
        except (ClientError, OSError, TimeoutError) as error:
            log.warning("profile of %s: %s", user_id, error)
            return None
        if not isinstance(response, ProfileGetResponse) or not response.displayname:
            return None
        return Profile(name=str(response.displayname))

    # -- answering ------------------------------------------------------------------------------------

    async def deliver_form(self, form: Form, origin: Origin) -> None:
        await self.start_dialog(form, origin)

    async def deliver_reply(self, reply: Reply, origin: Origin) -> None:
        user = origin.actor.user_id
        if reply.audience is Audience.GROUP:
            await self.open_group(reply, origin)
        elif reply.audience is Audience.CHANNEL and not origin.direct:
            await self.post(origin.room_id, reply, thread=origin.thread_id, reply_to=origin.event_id)
        elif reply.audience is Audience.THREAD and not origin.direct:
            await self.post(origin.room_id, reply, thread=origin.thread_id or origin.event_id,
                            reply_to=origin.event_id)
        elif origin.direct:
            await self.post(origin.room_id, reply, for_user=user)
        elif origin.private or reply.private:
            await self.tell_user(user, reply)
        else:
            await self.post(origin.room_id, reply, reply_to=origin.event_id, thread=origin.thread_id, for_user=user)

    async def tell_user(self, user_id: str, reply: Reply | str) -> None:
        if isinstance(reply, str):
            reply = Reply.text(reply)
        room = await self.direct_room(user_id, self.client)
        await self.post(room, reply, for_user=user_id)

    async def post(self, room_id: str, reply: Reply, *, reply_to: str = "", thread: str = "", for_user: str = "",
                   client: AsyncClient | None = None) -> str:
        """Send a rendered reply; its buttons become the numbers that person (or the room) can type now. A secret
        vote's buttons (a vote shown on request) are never numbers to type in a shared room: `!stem` choices."""
        secret = ballot_of(reply)
        if secret is not None and secret.ballot is Ballot.SECRET:
            code = await self.state.add_poll(room_id, True, [(b.action_id, b.value, b.label) for b in secret.buttons])
            reply = outgoing.secret_text(self, reply, code)
        rendered = render(reply, self.t, PREFIX)
        content = rendered.content()
        if thread:
            content["m.relates_to"] = {"rel_type": "m.thread", "event_id": thread, "is_falling_back": not reply_to,
                                       "m.in_reply_to": {"event_id": reply_to or thread}}
        elif reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        files = files_of(reply)
        event_id = ""
        if rendered.body or not files:
            event_id = await self.send_event(client or self.client, room_id, "m.room.message", content)
        if rendered.buttons:
            await self.remember_buttons(room_id, for_user, rendered.buttons)
        for file in files:  # each an m.file of its own, in the same thread or reply
            sent = await self.send_file(client or self.client, room_id, file, content.get("m.relates_to"))
            event_id = event_id or sent
        return event_id

    async def send_file(self, client: AsyncClient, room_id: str, file: File, relates: Any) -> str:
        """Upload `file` to the media repository, then send it as an `m.file` message."""
        try:
            uploaded, _ = await client.upload(io.BytesIO(file.data), content_type=file.mime, filename=file.name,
                                              filesize=len(file.data))
        except (ClientError, OSError, TimeoutError) as error:
            raise DeliveryDelayed(f"Matrix unreachable: {error!r}") from error
        if not isinstance(uploaded, UploadResponse):
            raise sorted_error(uploaded)
        content = file_content(file, uploaded.content_uri)
        if relates:
            content["m.relates_to"] = relates
        return await self.send_event(client, room_id, "m.room.message", content)

    async def remember_buttons(self, room_id: str, user_id: str, buttons: list[Button]) -> None:
        await self.state.show_buttons(room_id, user_id, [(b.action_id, b.value, b.label) for b in buttons])

    async def send_event(self, client: AsyncClient, room_id: str, kind: str, content: dict[str, Any]) -> str:
        """One event; a refusal or failure sorted as the outbox reads it (an answer to a person just logs it)."""
        try:
            await self.crypto.before_send(client, room_id)  # MATRIX_TRUST=verified: only verified devices
            response = await client.room_send(room_id, kind, content, tx_id=transaction_id(),  # edge: idempotent
                                              ignore_unverified_devices=True)  # (encrypted where the room is)
        except (ClientError, OSError, TimeoutError) as error:
            raise DeliveryDelayed(f"Matrix unreachable: {error!r}") from error
        if isinstance(response, RoomSendResponse):
            return str(response.event_id)
        raise sorted_error(response)

    async def direct_room(self, user_id: str, client: AsyncClient) -> str:
        """The bot's direct room with this user: the one kept in the database, else a new encrypted one."""
        async with self._dm_lock:
            room = await self.state.direct_room(user_id)
            if room is not None:
                return room
            try:
                created = await client.room_create(is_direct=True, invite=[user_id], initial_state=[crypto.ENCRYPTION],
                                                   preset=RoomPreset.trusted_private_chat)
            except (ClientError, OSError, TimeoutError) as error:
                raise DeliveryDelayed(f"Matrix unreachable: {error!r}") from error
            if isinstance(created, RoomCreateError):
                raise sorted_error(created)
            crypto.created(client, created.room_id, [user_id])
            await self.state.save_direct_room(user_id, created.room_id)
            self.direct_rooms[created.room_id] = user_id
            return str(created.room_id)

    async def open_group(self, reply: Reply, origin: Origin) -> None:
        """A new room of the actor, the others in `reply.group` and the bot."""
        others = [uid for m in reply.group if (uid := m.user_id(PLATFORM)) and uid != origin.actor.user_id]
        created = await self.client.room_create(invite=[origin.actor.user_id, *others], initial_state=[
            crypto.ENCRYPTION], preset=RoomPreset.trusted_private_chat)
        if isinstance(created, RoomCreateError):
            raise sorted_error(created)
        crypto.created(self.client, created.room_id, [origin.actor.user_id, *others])
        await self.post(created.room_id, reply)

    # -- forms as a dialog in the direct room (bot/adapters/matrix/forms.py) -------------------------------

    async def start_dialog(self, form: Form, origin: Origin) -> None:
        user = origin.actor.user_id
        room = origin.room_id if origin.direct else await self.direct_room(user, self.client)
        if not origin.direct:
            await self.post(origin.room_id, Reply.text(self.t("matrix.form_in_direct", title=form.title)),
                            reply_to=origin.event_id, thread=origin.thread_id)
        await self.forms.start(form, user, room, "" if origin.direct else origin.room_id)

    # -- the outbox's way out (bot/adapters/matrix/outgoing.py) ----------------------------------------

    async def send(self, channel: str, reply: Reply) -> str:
        return await outgoing.send(self, channel, reply)

    async def update(self, channel: str, ref: str, reply: Reply) -> None:
        await outgoing.update(self, channel, ref, reply)


@contextlib.asynccontextmanager
async def running(adapter: MatrixAdapter) -> AsyncIterator[asyncio.Task[None]]:
    """Log in, connect the bot's time (reminders, deadlines, outbox) and sync until the block ends."""
    await sync.login(adapter)
    await adapter.port.keep_time(adapter, PLATFORM)
    task = asyncio.create_task(sync.run(adapter), name="matrix-sync")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await sync.close(adapter)
