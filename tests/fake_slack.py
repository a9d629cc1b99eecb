"""Slack on 127.0.0.1: its Web API as the bot sees it, and the signed requests Slack sends the bot.

`FakeSlack` answers the Web API methods the adapter (and bolt) call with Slack's own JSON shapes,
over form-encoded, query-string or JSON bodies, only with `Authorization: Bearer xoxb-…`. It
checks what Slack checks where a bug would show (Block Kit limits, trigger ids that expire after
3 seconds, required arguments) and answers the error Slack would. It records every call, serves
`response_url`s (POST /response/<name>) and a Socket Mode connection (apps.connections.open with
the app-level token, then a websocket that `push` sends envelopes over), and injects faults: the
next N calls of a method answer 429 with `Retry-After: 1` or 500. A method can be held until the
test releases it, to prove that something happens after the ack rather than before it.

It also keeps the channels' messages: the ones a test seeds (`add_message`) and the ones the bot
posts (with their `thread_ts`), and answers `conversations.history`, `conversations.replies` and
`chat.getPermalink` from them as Slack does: history holds no thread replies, replies is the
thread with its parent first, a message that is not there is `message_not_found` (or
`thread_not_found`), a channel nobody wrote in is `channel_not_found`. `conversations.members` pages
the channels' members (`add_members`; the sender's `member_joined` / `member_left` change them and send
member_joined_channel / member_left_channel). `refuse` makes the next
calls of a method answer an error such as `missing_scope`.

`SlackSender` is the other direction: slash commands, button presses, modal submissions and
events, signed exactly as Slack signs them (`v0=` HMAC-SHA256 of `v0:{timestamp}:{body}`); for
events about the fake's messages (reactions, edits, deletions) it builds Slack's payloads from them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

TOKEN = "xoxb-1111-2222-netwerkbot"
APP_TOKEN = "xapp-1-A0NETWERK-3333-socket"
TEAM_ID = "T0NETWERK"
BOT_USER_ID = "UBOTNETWERK"
BOT_ID = "BNETWERK"
TRIGGER_LIFETIME = 3.0  # seconds, as on Slack
WAIT = 10.0  # seconds a test waits for background work before it fails
JSON_ARGUMENTS = ("blocks", "view", "attachments", "files", "metadata")  # JSON strings when sent form-encoded
WORKSPACE_URL = "https://netwerk.slack.com"
PAGE = 100  # conversations.history and .replies: messages per page without a limit
TS = re.compile(r"\d{1,12}(\.\d{1,6})?")
MANIFEST_SCOPES = tuple(json.loads((Path(__file__).resolve().parents[1] / "slack" / "manifest.json")
                                   .read_text(encoding="utf-8"))["oauth_config"]["scopes"]["bot"])


@dataclass(frozen=True)
class Call:
    """One Web API call as the fake received it, and the HTTP status it answered."""

    method: str
    params: dict[str, Any]
    status: int
    ok: bool
    at: float = field(default_factory=time.monotonic)  # when it arrived
    connection: object = None  # the caller's end of the TCP connection it came on (address, port)


@dataclass(frozen=True)
class Posted:
    """One POST to a response_url."""

    name: str
    body: dict[str, Any]


@dataclass
class Message:
    """A message in a channel as the fake keeps it: seeded by a test or posted by the bot."""

    channel: str
    ts: str
    text: str
    user: str = ""
    thread_ts: str = ""  # the parent's ts for a reply (a parent with replies answers its own ts)
    bot_id: str = ""
    edited: str = ""  # ts of the last edit
    metadata: dict[str, Any] | None = None  # as chat.postMessage got it: {"event_type", "event_payload"}

    def payload(self, replies: int = 0, *, metadata: bool = False) -> dict[str, Any]:
        """The message as conversations.history, .replies and events carry it; `replies`: its reply count;
        `metadata`: with its message metadata (Slack gives it only when asked: include_all_metadata)."""
        found: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text, "team": TEAM_ID}
        if metadata and self.metadata is not None:
            found["metadata"] = self.metadata
        if self.user:
            found["user"] = self.user
        if self.bot_id:
            found["bot_id"] = self.bot_id
            if not self.user:  # an integration's message: no user, Slack marks it bot_message
                found["subtype"] = "bot_message"
        if self.thread_ts:
            found["thread_ts"] = self.thread_ts
        if replies:
            found |= {"thread_ts": self.ts, "reply_count": replies}
        if self.edited:
            found["edited"] = {"user": self.user, "ts": self.edited}
        return found


def _peer(request: web.Request) -> object:
    return request.transport.get_extra_info("peername") if request.transport is not None else None


def _flag(value: Any) -> bool:
    """A boolean argument as slack_sdk sends it ("1"/"0") or as JSON (true/false)."""
    return value is True or str(value).lower() in ("1", "true")


# -- what Slack checks in Block Kit ---------------------------------------------------------------------


def _text_problems(where: str, text: Any, limit: int, *, kind: str | None = None) -> list[str]:
    if not isinstance(text, dict) or text.get("type") not in ("plain_text", "mrkdwn"):
        return [f"{where}: not a text object"]
    if kind and text["type"] != kind:
        return [f"{where}: must be {kind}"]
    value = text.get("text", "")
    if not isinstance(value, str) or not value:
        return [f"{where}: empty text"]
    if len(value) > limit:
        return [f"{where}: text longer than {limit}"]
    return []


def _element_problems(where: str, element: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    if len(str(element.get("action_id", ""))) > 255:
        problems.append(f"{where}: action_id longer than 255")
    if element.get("type") == "button":
        problems += _text_problems(f"{where}.text", element.get("text"), 75, kind="plain_text")
        if "value" in element and not 1 <= len(str(element["value"])) <= 2000:
            problems.append(f"{where}: value must be 1-2000 characters")
        if element.get("style") not in (None, "primary", "danger"):
            problems.append(f"{where}: style must be primary or danger")
    elif element.get("type") == "plain_text_input":
        if not 1 <= int(element.get("max_length", 3000)) <= 3000:
            problems.append(f"{where}: max_length must be 1-3000")
        if len(str(element.get("initial_value", ""))) > int(element.get("max_length", 3000)):
            problems.append(f"{where}: initial_value longer than max_length")
    elif element.get("type") == "static_select":
        options = element.get("options") or []
        if not 1 <= len(options) <= 100:
            problems.append(f"{where}: 1-100 options")
    elif element.get("type") in ("checkboxes", "multi_static_select"):
        options = element.get("options") or []
        limit = 10 if element["type"] == "checkboxes" else 100
        if not 1 <= len(options) <= limit:
            problems.append(f"{where}: 1-{limit} options")
        if any(o not in options for o in element.get("initial_options") or ()):
            problems.append(f"{where}: initial_options must be among the options")
    else:
        problems.append(f"{where}: unknown element type {element.get('type')!r}")
    return problems


def block_problems(blocks: Any, *, max_blocks: int = 50) -> list[str]:
    """What Slack would refuse in these blocks (`invalid_blocks`); empty when they are fine."""
    if not isinstance(blocks, list):
        return ["blocks: not a list"]
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"more than {max_blocks} blocks")
    action_ids: list[str] = []
    block_ids: list[str] = []
    for n, block in enumerate(blocks):
        where = f"blocks[{n}]"
        kind = block.get("type")
        if "block_id" in block:
            block_ids.append(str(block["block_id"]))
        if kind == "header":
            problems += _text_problems(f"{where}.text", block.get("text"), 150, kind="plain_text")
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: text or fields required")
            if "text" in block:
                problems += _text_problems(f"{where}.text", block["text"], 3000)
            fields = block.get("fields", [])
            if len(fields) > 10:
                problems.append(f"{where}: more than 10 fields")
            for i, f in enumerate(fields):
                problems += _text_problems(f"{where}.fields[{i}]", f, 2000)
        elif kind == "actions":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= 25:
                problems.append(f"{where}: 1-25 elements")
            for i, element in enumerate(elements):
                problems += _element_problems(f"{where}.elements[{i}]", element)
                action_ids.append(str(element.get("action_id", "")))
        elif kind == "context":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= 10:
                problems.append(f"{where}: 1-10 elements")
            for i, element in enumerate(elements):
                problems += _text_problems(f"{where}.elements[{i}]", element, 3000)
        elif kind == "input":
            problems += _text_problems(f"{where}.label", block.get("label"), 2000, kind="plain_text")
            if "hint" in block:
                problems += _text_problems(f"{where}.hint", block["hint"], 2000, kind="plain_text")
            problems += _element_problems(f"{where}.element", block.get("element") or {})
        else:
            problems.append(f"{where}: unknown block type {kind!r}")
    if len(set(action_ids)) != len(action_ids):
        problems.append("action_ids are not unique")
    if len(set(block_ids)) != len(block_ids):
        problems.append("block_ids are not unique")
    return problems


def view_problems(view: Any) -> list[str]:
    if not isinstance(view, dict) or view.get("type") != "modal":
        return ["view: must be a modal"]
    problems = _text_problems("view.title", view.get("title"), 24, kind="plain_text")
    for button in ("submit", "close"):
        if button in view:
            problems += _text_problems(f"view.{button}", view[button], 24, kind="plain_text")
    if any(b.get("type") == "input" for b in view.get("blocks", [])) and "submit" not in view:
        problems.append("view: input blocks need a submit button")
    if len(str(view.get("private_metadata", ""))) > 3000:
        problems.append("view: private_metadata longer than 3000")
    if len(str(view.get("callback_id", ""))) > 255:
        problems.append("view: callback_id longer than 255")
    return problems + block_problems(view.get("blocks"), max_blocks=100)


# -- the Web API ------------------------------------------------------------------------------------------


class FakeSlack:
    def __init__(self, token: str = TOKEN, app_token: str = APP_TOKEN) -> None:
        self.token = token
        self.app_token = app_token
        self.sockets: list[web.WebSocketResponse] = []  # Socket Mode connections of the app
        self.socket_acks: dict[str, dict[str, Any]] = {}  # envelope id → what the app acked with
        self.calls: list[Call] = []
        self.responses: list[Posted] = []
        self.users: dict[str, dict[str, Any]] = {}
        self._faults: dict[str, list[int]] = {}
        self.deleted_channels: set[str] = set()  # chat.postMessage to these answers channel_not_found
        self._holds: dict[str, asyncio.Event] = {}
        self._triggers: dict[str, float] = {}
        self._conversations: dict[frozenset[str], str] = {}
        self.messages: dict[str, dict[str, Message]] = {}  # channel → ts → message
        self.members: dict[str, list[str]] = {}  # channel → its members' user ids, in joining order
        self._refusals: dict[str, list[str]] = {}
        # the scopes the app was granted: auth.test (like every call) answers them in `x-oauth-scopes`
        self.scopes: list[str] = list(MANIFEST_SCOPES)
        self.outside: set[str] = set()  # channels the bot is not a member of: history there is not_in_channel
        self._numbers = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self.auth_test, "chat.postMessage": self.chat_post_message,
            "chat.postEphemeral": self.chat_post_ephemeral, "chat.update": self.chat_update,
            "views.open": self.views_open, "conversations.open": self.conversations_open,
            "users.info": self.users_info, "conversations.history": self.conversations_history,
            "conversations.replies": self.conversations_replies, "chat.getPermalink": self.chat_get_permalink,
            "files.getUploadURLExternal": self.files_get_upload_url_external,
            "files.completeUploadExternal": self.files_complete_upload_external,
            "conversations.members": self.conversations_members,
            "views.publish": self.views_publish, "views.update": self.views_update,
        }
        self.homes: dict[str, dict[str, Any]] = {}  # user id → the Home view published last (issue 17)
        self.views: dict[str, dict[str, Any]] = {}  # view id → the view as views.open/.publish/.update left it
        self.uploads: dict[str, dict[str, Any]] = {}  # file id → filename, length, data (once uploaded)
        self.files: list[dict[str, Any]] = []  # files shared in a conversation: id, title, name, data, channel

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        for event in self._holds.values():
            event.set()
        for ws in self.sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        """The Web API base URL (slack_sdk wants the trailing slash)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    # -- what tests set up ----------------------------------------------------------------------------

    def add_user(self, user_id: str, real_name: str, *, title: str = "", email: str = "",
                 display_name: str = "") -> None:
        self.users[user_id] = {
            "id": user_id, "team_id": TEAM_ID, "name": real_name.split()[0].lower(), "real_name": real_name,
            "deleted": False, "is_bot": False, "tz": "Europe/Amsterdam",
            "profile": {"real_name": real_name, "display_name": display_name, "title": title, "email": email,
                        "real_name_normalized": real_name, "display_name_normalized": display_name},
        }

    def add_channel(self, channel: str) -> None:
        """A channel that exists but has no messages yet (a channel nobody wrote in is channel_not_found)."""
        self.messages.setdefault(channel, {})

    def add_members(self, channel: str, *user_ids: str) -> None:
        """People in `channel` already (no events: they were there before the bot started)."""
        self.add_channel(channel)
        self.members.setdefault(channel, []).extend(u for u in user_ids if u not in self.members[channel])

    def add_message(self, channel: str, ts: str, user: str, text: str, *, thread_ts: str | None = None,
                    bot_id: str | None = None) -> Message:
        """A message someone wrote in `channel`; with `thread_ts` a reply in that message's thread.
        With `bot_id` it is a bot's (then `user` may be "", as for an integration's bot_message)."""
        if not TS.fullmatch(ts) or (thread_ts and not TS.fullmatch(thread_ts)):
            raise ValueError(f"not a Slack ts: {ts!r} / {thread_ts!r}")
        message = Message(channel, ts, text, user, thread_ts or "", bot_id or "")
        self.messages.setdefault(channel, {})[ts] = message
        return message

    def message(self, channel: str, ts: str) -> Message | None:
        return self.messages.get(channel, {}).get(ts)

    def delete_message(self, channel: str, ts: str) -> Message | None:
        """Removes a message (as chat.delete or the author would); returns what it was."""
        return self.messages.get(channel, {}).pop(ts, None)

    def thread(self, channel: str, ts: str) -> list[Message]:
        """The replies in the thread of message `ts`, oldest first (also the ones the bot posted)."""
        return sorted((m for m in self.messages.get(channel, {}).values() if m.thread_ts == ts and m.ts != ts),
                      key=lambda m: float(m.ts))

    def permalink(self, channel: str, ts: str) -> str:
        """What chat.getPermalink answers for a message (a reply's link names its thread)."""
        link = f"{WORKSPACE_URL}/archives/{channel}/p{ts.replace('.', '')}"
        found = self.message(channel, ts)
        if found is not None and found.thread_ts and found.thread_ts != ts:
            link += f"?thread_ts={found.thread_ts}&cid={channel}"
        return link

    def refuse(self, method: str, error: str, times: int = 1) -> None:
        """The next `times` calls of `method` answer `{"ok": false, "error": error}` (e.g. missing_scope)."""
        self._refusals.setdefault(method, []).extend([error] * times)

    def fail(self, method: str, status: int, times: int = 1) -> None:
        """The next `times` calls of `method` answer `status` (429 comes with Retry-After: 1)."""
        self._faults.setdefault(method, []).extend([status] * times)

    def hold(self, method: str) -> asyncio.Event:
        """Calls of `method` wait until the returned event is set."""
        return self._holds.setdefault(method, asyncio.Event())

    def trigger(self) -> str:
        """A trigger_id as Slack puts in a command or button payload: views.open accepts it for 3 s."""
        trigger_id = f"{next(self._numbers)}.{TEAM_ID}.trigger"
        self._triggers[trigger_id] = time.monotonic()
        return trigger_id

    # -- what tests read ------------------------------------------------------------------------------

    def ok_calls(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.ok]

    def attempts(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, what: Callable[[], Any]) -> Any:
        """Wait (at most WAIT seconds) until `what()` is truthy, re-checked on every call the fake records."""
        async with asyncio.timeout(WAIT), self._changed:
            await self._changed.wait_for(what)
            return what()

    async def wait_for_calls(self, method: str, count: int = 1) -> list[Call]:
        """The successful calls of `method`, once there are at least `count`."""
        found: list[Call] = await self.wait_for(lambda: len(self.ok_calls(method)) >= count and self.ok_calls(method))
        return found

    async def wait_for_responses(self, count: int = 1) -> list[Posted]:
        found: list[Posted] = await self.wait_for(lambda: len(self.responses) >= count and self.responses)
        return found

    async def _record(self, item: Call | Posted) -> None:
        async with self._changed:
            if isinstance(item, Call):
                self.calls.append(item)
            else:
                self.responses.append(item)
            self._changed.notify_all()

    # -- HTTP -----------------------------------------------------------------------------------------

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(dict(await request.post()))
        for key in JSON_ARGUMENTS:
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    params[key] = None
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip() or params.pop("token", "")
        if method in self._holds:
            await self._holds[method].wait()
        faults = self._faults.get(method)
        if faults:
            status = faults.pop(0)
            await self._record(Call(method, params, status, ok=False, connection=_peer(request)))
            if status == 429:
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                         headers={"Retry-After": "1"})
            return web.json_response({"ok": False, "error": "internal_error"}, status=status)
        if not token:
            answer: dict[str, Any] = {"ok": False, "error": "not_authed"}
        elif method == "apps.connections.open":  # the one method that takes the app-level token
            answer = ({"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket?ticket={next(self._numbers)}"}
                      if token == self.app_token else {"ok": False, "error": "not_allowed_token_type"})
        elif token != self.token:
            answer = {"ok": False, "error": "invalid_auth"}
        elif method not in self.methods:
            answer = {"ok": False, "error": "unknown_method"}
        elif refusals := self._refusals.get(method):
            answer = {"ok": False, "error": refusals.pop(0)}
            if answer["error"] == "missing_scope":
                answer |= {"needed": "channels:history", "provided": "chat:write"}
        else:
            answer = self.methods[method](params)
        await self._record(Call(method, params, 200, ok=bool(answer.get("ok")), connection=_peer(request)))
        granted = {"x-oauth-scopes": ",".join(self.scopes)} if token == self.token else {}
        return web.json_response(answer, headers=granted)

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL files.getUploadURLExternal gave: the file's bytes, as a POST body (Slack answers 200 "OK")."""
        pending = self.uploads.get(request.match_info["file_id"])
        if pending is None:
            return web.Response(status=404, text="file not found")
        pending["data"] = await request.read()
        await self._record(Call("upload", {"file_id": request.match_info["file_id"]}, 200, ok=True))
        return web.Response(text=f"OK - {len(pending['data'])}")

    async def _response_url(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        if "blocks" in body and block_problems(body["blocks"]):
            return web.Response(status=400, text="invalid_blocks")
        await self._record(Posted(request.match_info["name"], body))
        return web.Response(text="ok")

    # -- Socket Mode ----------------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)  # answers the SDK's pings with pongs, as Slack does
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600}})
        async with self._changed:
            self.sockets.append(ws)
            self._changed.notify_all()
        async for received in ws:
            if received.type is aiohttp.WSMsgType.TEXT:
                ack = json.loads(received.data)
                async with self._changed:
                    self.socket_acks[ack["envelope_id"]] = ack
                    self._changed.notify_all()
        return ws

    async def push(self, kind: str, payload: Mapping[str, Any], *, retry_attempt: int = 0) -> dict[str, Any]:
        """Sends an envelope over the app's Socket Mode connection; returns the app's ack."""
        await self.wait_for(lambda: self.sockets)
        envelope_id = f"envelope-{next(self._numbers)}"
        await self.sockets[-1].send_json({
            "envelope_id": envelope_id, "type": kind, "payload": dict(payload),
            "accepts_response_payload": kind != "events_api", "retry_attempt": retry_attempt,
            "retry_reason": "timeout" if retry_attempt else "",
        })
        ack: dict[str, Any] = await self.wait_for(lambda: self.socket_acks.get(envelope_id))
        return ack

    # -- the methods ----------------------------------------------------------------------------------

    def _ts(self) -> str:
        return f"{1790000000 + next(self._numbers)}.{next(self._numbers):06d}"

    def next_ts(self) -> str:
        """A fresh ts, later than every one the fake gave before (for events it builds)."""
        return self._ts()

    def _message_problem(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        if not params.get("channel") or params["channel"] in self.deleted_channels:
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        if "blocks" in params and (problems := block_problems(params["blocks"])):
            return {"ok": False, "error": "invalid_blocks", "response_metadata": {"messages": problems}}
        return None

    def auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://netwerk.slack.com/", "team": "Netwerk", "user": "netwerkbot",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}

    def chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        if problem := self._message_problem(params):
            return problem
        channel = str(params["channel"])
        if channel.startswith(("U", "W")):  # posting to a user id goes to the app's DM with them
            channel = self._conversation(frozenset({channel}))
        metadata = params.get("metadata")
        if "metadata" in params and metadata is not None and not (
                isinstance(metadata, dict) and isinstance(metadata.get("event_type"), str)
                and re.fullmatch(r"[A-Za-z0-9_.-]{1,255}", metadata["event_type"])
                and isinstance(metadata.get("event_payload"), dict)):
            return {"ok": False, "error": "invalid_metadata_format"}
        ts = self._ts()
        thread_ts = str(params.get("thread_ts") or "")
        message = self.add_message(channel, ts, BOT_USER_ID, str(params.get("text", "")),
                                   thread_ts=thread_ts or None, bot_id=BOT_ID)
        message.metadata = metadata
        posted = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "ts": ts,
                  "text": params.get("text", ""), "blocks": params.get("blocks", [])}
        if metadata is not None:
            posted["metadata"] = metadata
        if thread_ts:
            posted["thread_ts"] = thread_ts
        return {"ok": True, "channel": channel, "ts": ts, "message": posted}

    def chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if problem := self._message_problem(params):
            return problem
        if not params.get("user"):
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "message_ts": self._ts()}

    def chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        if problem := self._message_problem(params):
            return problem
        return {"ok": True, "channel": params["channel"], "ts": params["ts"], "text": params.get("text", "")}

    def views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        issued = self._triggers.get(str(params.get("trigger_id", "")))
        if issued is None:
            return {"ok": False, "error": "invalid_trigger_id"}
        if time.monotonic() - issued > TRIGGER_LIFETIME:
            return {"ok": False, "error": "expired_trigger_id"}
        view: dict[str, Any] = params.get("view") or {}
        if problems := view_problems(view):
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": problems}}
        return {"ok": True, "view": self._keep_view(view)}

    def _keep_view(self, view: dict[str, Any], view_id: str = "") -> dict[str, Any]:
        number = next(self._numbers)
        kept = {**view, "id": view_id or f"V{number:08d}", "team_id": TEAM_ID, "hash": f"{number}.hash",
                "state": {"values": {}}, "app_id": "A0NETWERK", "bot_id": BOT_ID}
        self.views[kept["id"]] = kept
        return kept

    def views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        """A user's Home tab: a `home` view of at most 100 blocks; `hash`, when given, must be the current one."""
        user_id = str(params.get("user_id") or "")
        view: Any = params.get("view")
        if not user_id or not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments",
                    "response_metadata": {"messages": ["[ERROR] missing required field: user_id or view"]}}
        current = self.homes.get(user_id)
        if params.get("hash") and (current is None or params["hash"] != current["hash"]):
            return {"ok": False, "error": "hash_conflict"}
        problems = ([] if view.get("type") == "home" else ["view: must be a home view"]) + \
            block_problems(view.get("blocks"), max_blocks=100)
        if problems:
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": problems}}
        kept = self._keep_view(view, current["id"] if current else "")
        self.homes[user_id] = kept
        return {"ok": True, "view": kept}

    def views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        """A modal already open, by `view_id` (or `external_id`); a stale `hash` is a hash_conflict."""
        view_id = str(params.get("view_id") or "")
        external = str(params.get("external_id") or "")
        current = self.views.get(view_id) or next(
            (v for v in self.views.values() if external and v.get("external_id") == external), None)
        if not view_id and not external:
            return {"ok": False, "error": "invalid_arguments",
                    "response_metadata": {"messages": ["[ERROR] view_id or external_id required"]}}
        if current is None:
            return {"ok": False, "error": "not_found"}
        if params.get("hash") and params["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        view: dict[str, Any] = params.get("view") or {}
        if problems := view_problems(view):
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": problems}}
        return {"ok": True, "view": self._keep_view(view, current["id"])}

    def _conversation(self, users: frozenset[str]) -> str:
        prefix = "D" if len(users) == 1 else "G"
        return self._conversations.setdefault(users, f"{prefix}{next(self._numbers):08d}")

    def conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = frozenset(u.strip() for u in str(params.get("users", "")).split(",") if u.strip())
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        if len(users) > 8:
            return {"ok": False, "error": "too_many_users"}
        known = users in self._conversations
        return {"ok": True, "no_op": known, "already_open": known, "channel": {"id": self._conversation(users)}}

    def files_get_upload_url_external(self, params: dict[str, Any]) -> dict[str, Any]:
        """Step 1 of files.uploadV2: a file id and the URL its bytes go to (here on the fake itself)."""
        filename, length = str(params.get("filename") or ""), str(params.get("length") or "")
        if not filename or not length.isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._numbers):08d}"
        self.uploads[file_id] = {"filename": filename, "length": int(length)}
        return {"ok": True, "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}", "file_id": file_id}

    def files_complete_upload_external(self, params: dict[str, Any]) -> dict[str, Any]:
        """Step 3: share the uploaded files in `channel_id` (in the thread of `thread_ts`)."""
        wanted = params.get("files")
        if not isinstance(wanted, list) or not wanted:
            return {"ok": False, "error": "invalid_arguments"}
        done = []
        for entry in wanted:
            pending = self.uploads.get(str(entry.get("id") or ""))
            if pending is None or "data" not in pending or len(pending["data"]) != pending["length"]:
                return {"ok": False, "error": "file_not_found"}
            done.append({"id": entry["id"], "title": str(entry.get("title") or pending["filename"]),
                         "name": pending["filename"], "data": pending["data"],
                         "channel": str(params.get("channel_id") or ""),
                         "thread_ts": str(params.get("thread_ts") or "")})
        self.files.extend(done)
        return {"ok": True, "files": [{"id": f["id"], "title": f["title"], "name": f["name"]} for f in done]}

    def users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("user", "")))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _channel(self, params: Mapping[str, Any]) -> dict[str, Message] | None:
        channel = str(params.get("channel") or "")
        if not channel or channel in self.deleted_channels:
            return None
        return self.messages.get(channel)

    @staticmethod
    def _window(params: Mapping[str, Any]) -> tuple[Callable[[Message], bool], int, int] | dict[str, Any]:
        """What oldest/latest/inclusive let through, the limit and the cursor's offset; or Slack's error."""
        bounds: dict[str, float] = {}
        for name, default in (("oldest", 0.0), ("latest", float("inf"))):
            value = params.get(name)
            if value in (None, ""):
                bounds[name] = default
            elif not TS.fullmatch(str(value)):
                return {"ok": False, "error": f"invalid_ts_{name}"}
            else:
                bounds[name] = float(value)
        inclusive = _flag(params.get("inclusive"))
        try:
            limit = int(params.get("limit") or PAGE)
            offset = int(str(params.get("cursor") or "offset:0").removeprefix("offset:"))
        except ValueError:
            return {"ok": False, "error": "invalid_cursor" if params.get("cursor") else "invalid_limit"}
        if not 1 <= limit <= 999:
            return {"ok": False, "error": "invalid_limit"}

        def inside(message: Message) -> bool:
            at = float(message.ts)
            if inclusive:
                return bounds["oldest"] <= at <= bounds["latest"]
            return bounds["oldest"] < at < bounds["latest"]

        return inside, limit, offset

    @staticmethod
    def _page(found: list[dict[str, Any]], limit: int, offset: int) -> dict[str, Any]:
        page = found[offset:offset + limit]
        more = offset + limit < len(found)
        return {"ok": True, "messages": page, "has_more": more,
                "response_metadata": {"next_cursor": f"offset:{offset + limit}" if more else ""}}

    def _replies(self, messages: Mapping[str, Message], parent: Message) -> int:
        return sum(1 for m in messages.values() if m.thread_ts == parent.ts and m.ts != parent.ts)

    def conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """The channel's messages, newest first; thread replies are not in it (only in .replies). A channel
        the bot is not in answers not_in_channel, as Slack answers a bot token."""
        if str(params.get("channel") or "") in self.outside:
            return {"ok": False, "error": "not_in_channel"}
        messages = self._channel(params)
        if messages is None:
            return {"ok": False, "error": "channel_not_found"}
        window = self._window(params)
        if isinstance(window, dict):
            return window
        inside, limit, offset = window
        top = sorted((m for m in messages.values() if not m.thread_ts or m.thread_ts == m.ts),
                     key=lambda m: float(m.ts), reverse=True)
        with_metadata = _flag(params.get("include_all_metadata"))
        found = [m.payload(self._replies(messages, m), metadata=with_metadata) for m in top if inside(m)]
        return self._page(found, limit, offset) | {"pin_count": 0, "channel_actions_ts": None,
                                                   "channel_actions_count": 0}

    def conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        """The channel's members' user ids, a page of `limit` (default 100, at most 1000) at a time with a
        `next_cursor` ("" on the last page), as Slack pages them."""
        if self._channel(params) is None:
            return {"ok": False, "error": "channel_not_found"}
        members = self.members.get(str(params["channel"]), [])
        try:
            limit = min(int(params.get("limit") or 100), 1000)
            cursor = base64.b64decode(str(params.get("cursor") or ""), validate=True).decode()
            offset = int(cursor.removeprefix("offset:")) if cursor else 0
        except ValueError:
            return {"ok": False, "error": "invalid_cursor"}
        page = members[offset:offset + limit]
        following = base64.b64encode(f"offset:{offset + limit}".encode()).decode() \
            if offset + limit < len(members) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": following}}

    def conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        """The thread of `ts` (the parent's ts or a reply's): the parent first, then the replies in the
        window, oldest first."""
        messages = self._channel(params)
        if messages is None:
            return {"ok": False, "error": "channel_not_found"}
        asked = messages.get(str(params.get("ts") or ""))
        if asked is None:
            return {"ok": False, "error": "thread_not_found"}
        parent = messages.get(asked.thread_ts or asked.ts)
        if parent is None:  # a reply whose parent is gone
            return {"ok": False, "error": "thread_not_found"}
        window = self._window(params)
        if isinstance(window, dict):
            return window
        inside, limit, offset = window
        replies = [m for m in messages.values() if m.thread_ts == parent.ts and m.ts != parent.ts and inside(m)]
        with_metadata = _flag(params.get("include_all_metadata"))
        found = [parent.payload(self._replies(messages, parent), metadata=with_metadata)]
        found += [m.payload(metadata=with_metadata) for m in sorted(replies, key=lambda m: float(m.ts))]
        return self._page(found, limit, offset)

    def chat_get_permalink(self, params: dict[str, Any]) -> dict[str, Any]:
        messages = self._channel(params)
        if messages is None:
            return {"ok": False, "error": "channel_not_found"}
        ts = str(params.get("message_ts") or "")
        if ts not in messages:
            return {"ok": False, "error": "message_not_found"}
        channel = str(params["channel"])
        return {"ok": True, "channel": channel, "permalink": self.permalink(channel, ts)}


# -- what Slack sends the bot ----------------------------------------------------------------------------


def signature_headers(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack signs a request with."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


@dataclass(frozen=True)
class User:
    id: str
    name: str  # Slack's user_name / username


@dataclass(frozen=True)
class Answer:
    """The bot's HTTP answer to Slack."""

    status: int
    text: str
    json: Any = field(default=None)


class SlackSender:
    """Sends the bot what Slack sends: form-encoded interactions, JSON events, always signed."""

    def __init__(self, session: aiohttp.ClientSession, url: str, secret: str, fake: FakeSlack) -> None:
        self.session = session
        self.url = url  # the bot's POST /slack/events
        self.secret = secret
        self.fake = fake
        self._numbers = itertools.count(1)

    async def post(self, body: str, content_type: str, *, secret: str | None = None, timestamp: int | None = None,
                   headers: Mapping[str, str] | None = None) -> Answer:
        sent = {"Content-Type": content_type, **signature_headers(secret or self.secret, body, timestamp),
                **(headers or {})}
        async with self.session.post(self.url, data=body.encode(), headers=sent) as response:
            text = await response.text()
            parsed = json.loads(text) if response.content_type == "application/json" and text else None
            return Answer(response.status, text, parsed)

    async def form(self, fields: Mapping[str, str], **options: Any) -> Answer:
        return await self.post(urllib.parse.urlencode(fields), "application/x-www-form-urlencoded", **options)

    def command_fields(self, command: str, text: str, user: User, *, channel: str = "C0NETWERK",
                       response_url: str = "") -> dict[str, str]:
        number = next(self._numbers)
        return {
            "token": "verification-token-unused", "team_id": TEAM_ID, "team_domain": "netwerk",
            "channel_id": channel, "channel_name": "netwerkgroep", "user_id": user.id, "user_name": user.name,
            "command": command, "text": text, "api_app_id": "A0NETWERK", "is_enterprise_install": "false",
            "response_url": response_url or self.fake.response_url(f"command-{number}"),
            "trigger_id": self.fake.trigger(),
        }

    async def command(self, command: str, text: str, user: User, *, channel: str = "C0NETWERK",
                      response_url: str = "", secret: str | None = None, timestamp: int | None = None) -> Answer:
        """A slash command, e.g. command("/expertise", "gedrag", user)."""
        fields = self.command_fields(command, text, user, channel=channel, response_url=response_url)
        return await self.form(fields, secret=secret, timestamp=timestamp)

    async def press(self, button: Mapping[str, Any], user: User, *, response_url: str,
                    channel: str = "C0NETWERK") -> Answer:
        """A block_actions payload for a button as the bot rendered it (in an ephemeral message)."""
        payload = {
            "type": "block_actions", "team": {"id": TEAM_ID, "domain": "netwerk"},
            "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID},
            "api_app_id": "A0NETWERK", "token": "verification-token-unused",
            "container": {"type": "message", "message_ts": "1790000000.000100", "channel_id": channel,
                          "is_ephemeral": True},
            "trigger_id": self.fake.trigger(), "channel": {"id": channel, "name": "netwerkgroep"},
            "response_url": response_url,
            "actions": [{"action_id": button["action_id"], "block_id": "b1", "text": button["text"],
                         "type": "button", "action_ts": f"{time.time():.6f}",
                         **({"value": button["value"]} if "value" in button else {})}],
        }
        return await self.form({"payload": json.dumps(payload)})

    async def press_in_view(self, button: Mapping[str, Any], user: User, view: Mapping[str, Any]) -> Answer:
        """A block_actions payload for a button on a view (the Home tab): no channel and no response_url."""
        payload = {
            "type": "block_actions", "team": {"id": TEAM_ID, "domain": "netwerk"},
            "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID},
            "api_app_id": "A0NETWERK", "token": "verification-token-unused",
            "container": {"type": "view", "view_id": view.get("id", "")}, "trigger_id": self.fake.trigger(),
            "view": dict(view),
            "actions": [{"action_id": button["action_id"], "block_id": "b1", "text": button["text"],
                         "type": "button", "action_ts": f"{time.time():.6f}",
                         **({"value": button["value"]} if "value" in button else {})}],
        }
        return await self.form({"payload": json.dumps(payload)})

    async def home_opened(self, user: str, event_id: str, *, tab: str = "home") -> Answer:
        """`user` opens the app's Home tab (or its Messages tab): app_home_opened."""
        event: dict[str, Any] = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": tab,
                                 "event_ts": self.fake.next_ts()}
        if user in self.fake.homes:  # Slack sends the view last published along
            event["view"] = self.fake.homes[user]
        return await self.event(event, event_id)

    async def shortcut(self, callback_id: str, user: User) -> Answer:
        """A global shortcut chosen from the shortcuts menu."""
        payload = {"type": "shortcut", "token": "verification-token-unused", "action_ts": f"{time.time():.6f}",
                   "team": {"id": TEAM_ID, "domain": "netwerk"}, "callback_id": callback_id,
                   "user": {"id": user.id, "username": user.name, "team_id": TEAM_ID},
                   "trigger_id": self.fake.trigger(), "is_enterprise_install": False}
        return await self.form({"payload": json.dumps(payload)})

    async def message_shortcut(self, callback_id: str, user: User, channel: str, ts: str, *,
                               response_url: str = "") -> Answer:
        """A message shortcut on the fake's message `ts` in `channel` (Slack sends the message along)."""
        found = self.fake.message(channel, ts)
        if found is None:
            raise KeyError(f"no message {ts} in {channel}: add_message it first")
        payload = {"type": "message_action", "token": "verification-token-unused",
                   "action_ts": f"{time.time():.6f}", "team": {"id": TEAM_ID, "domain": "netwerk"},
                   "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID},
                   "channel": {"id": channel, "name": "netwerkgroep"}, "callback_id": callback_id,
                   "trigger_id": self.fake.trigger(), "message_ts": ts, "message": found.payload(),
                   "response_url": response_url or self.fake.response_url(f"shortcut-{next(self._numbers)}")}
        return await self.form({"payload": json.dumps(payload)})

    async def submit(self, view: Mapping[str, Any], values: Mapping[str, str], user: User) -> Answer:
        """A view_submission of a modal as views.open received it, with `values` typed in its inputs."""
        state: dict[str, Any] = {}
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                continue
            element = block["element"]
            typed = values.get(block["block_id"])
            if element["type"] == "static_select":
                chosen = next((o for o in element["options"] if o["value"] == typed), None)
                answer: dict[str, Any] = {"type": "static_select", "selected_option": chosen}
            elif element["type"] in ("checkboxes", "multi_static_select"):  # `typed`: values joined by ","
                ticked = (typed or "").split(",")
                answer = {"type": element["type"], "selected_options": [o for o in element["options"]
                                                                     if o["value"] in ticked]}
            else:
                answer = {"type": element["type"], "value": typed or None}
            state[block["block_id"]] = {element["action_id"]: answer}
        payload = {
            "type": "view_submission", "team": {"id": TEAM_ID, "domain": "netwerk"},
            "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID},
            "api_app_id": "A0NETWERK", "token": "verification-token-unused", "trigger_id": self.fake.trigger(),
            "view": {**view, "state": {"values": state}}, "response_urls": [],
        }
        return await self.form({"payload": json.dumps(payload)})

    async def event(self, event: Mapping[str, Any], event_id: str, *, retry: int = 0) -> Answer:
        """An Events API `event_callback`; `retry` > 0 sends it as Slack's retry of the same event."""
        body = json.dumps({
            "token": "verification-token-unused", "team_id": TEAM_ID, "api_app_id": "A0NETWERK",
            "event": dict(event), "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        })
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return await self.post(body, "application/json", headers=headers)

    # -- events about the fake's messages -------------------------------------------------------------

    async def message_posted(self, channel: str, ts: str, user: str, text: str, event_id: str, *,
                             thread_ts: str | None = None, retry: int = 0) -> Answer:
        """`user` writes `text` (in the thread of `thread_ts`): the fake keeps it, the bot gets the event."""
        message = self.fake.add_message(channel, ts, user, text, thread_ts=thread_ts)
        event = message.payload() | {"channel": channel, "event_ts": ts, "channel_type": "channel"}
        return await self.event(event, event_id, retry=retry)

    async def reaction_added(self, reaction: str, user: str, channel: str, ts: str, event_id: str, *,
                             retry: int = 0) -> Answer:
        """`user` puts `reaction` (Slack's name, e.g. "bulb" or "+1::skin-tone-2") under message `ts`."""
        found = self.fake.message(channel, ts)
        event: dict[str, Any] = {"type": "reaction_added", "user": user, "reaction": reaction,
                                 "item": {"type": "message", "channel": channel, "ts": ts, "channel_type": "channel"},
                                 "event_ts": self.fake.next_ts()}
        if found is not None and found.user:  # messages of integrations have no item_user
            event["item_user"] = found.user
        return await self.event(event, event_id, retry=retry)

    async def member_joined(self, channel: str, user: str, event_id: str, *, retry: int = 0) -> Answer:
        """`user` joins `channel`: the fake's members change and the bot gets member_joined_channel."""
        self.fake.add_members(channel, user)
        event = {"type": "member_joined_channel", "user": user, "channel": channel, "channel_type": "C",
                 "team": TEAM_ID, "event_ts": self.fake.next_ts()}
        return await self.event(event, event_id, retry=retry)

    async def member_left(self, channel: str, user: str, event_id: str, *, retry: int = 0) -> Answer:
        """`user` leaves `channel`: the bot gets member_left_channel."""
        if user in self.fake.members.get(channel, []):
            self.fake.members[channel].remove(user)
        event = {"type": "member_left_channel", "user": user, "channel": channel, "channel_type": "C",
                 "team": TEAM_ID, "event_ts": self.fake.next_ts()}
        return await self.event(event, event_id, retry=retry)

    async def message_changed(self, channel: str, ts: str, text: str, event_id: str, *, retry: int = 0) -> Answer:
        """The fake's message `ts` now reads `text`; the same text is what Slack sends for an unfurl."""
        found = self.fake.message(channel, ts)
        if found is None:
            raise KeyError(f"no message {ts} in {channel}: add_message it first")
        previous = found.payload()
        at = self.fake.next_ts()
        if text != found.text:
            found.text, found.edited = text, at
        event = {"type": "message", "subtype": "message_changed", "hidden": True, "channel": channel, "ts": at,
                 "event_ts": at, "channel_type": "channel", "message": found.payload(), "previous_message": previous}
        return await self.event(event, event_id, retry=retry)

    async def message_deleted(self, channel: str, ts: str, event_id: str, *, retry: int = 0) -> Answer:
        """The fake's message `ts` is deleted (its `previous_message` goes along when the fake knew it)."""
        found = self.fake.delete_message(channel, ts)
        at = self.fake.next_ts()
        event: dict[str, Any] = {"type": "message", "subtype": "message_deleted", "hidden": True, "channel": channel,
                                 "ts": at, "deleted_ts": ts, "event_ts": at, "channel_type": "channel"}
        if found is not None:
            event["previous_message"] = found.payload()
        return await self.event(event, event_id, retry=retry)
