"""The Bot Connector service of Microsoft Teams on 127.0.0.1, and the activities Teams posts to the bot.

`FakeConnector` answers the v3 conversation API the SDK's connector client calls, with Teams' JSON shapes:
send to a conversation, reply to an activity (in its thread), update an activity (only one that was sent),
create a (personal) conversation, and the members of a conversation (the team roster). It records every
sent and updated activity with the bearer token it came with, and injects faults: the next N calls answer
429 with `Retry-After` or a 5xx. An unknown activity in an update is 404, as on Teams. It also holds the
Bot Framework's signing key: `/keys` is its JWKS, `token` signs what Teams would send.

`TeamsSender` is the other direction: message, invoke and conversationUpdate activities as Teams posts them
to `POST /api/messages`, their `serviceUrl` pointing at the fake (with a bearer token when one is given).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

TENANT = "8a1c7d1e-0000-4000-8000-000000000001"
BOT_ID = "28:netwerkbot-app-id"
WAIT = 10.0
KID = "netwerkbot-test-key"
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"


@dataclass(frozen=True)
class Person:
    bf_id: str  # Bot Framework id (29:…)
    aad: str  # Entra object id: the bot's user id on Teams
    name: str

    def account(self) -> dict[str, Any]:
        return {"id": self.bf_id, "aadObjectId": self.aad, "name": self.name}


@dataclass
class Sent:
    kind: str  # send, reply, update
    conversation: str
    activity_id: str
    activity: dict[str, Any]
    token: str

    def card(self) -> dict[str, Any]:
        attachments = self.activity.get("attachments") or []
        assert attachments, f"no card in {self.activity}"
        content: dict[str, Any] = attachments[0]["content"]
        return content

    @property
    def targeted(self) -> bool:
        return any(e.get("treatment") == "targeted" for e in self.activity.get("entities") or [])


def card_texts(content: dict[str, Any]) -> str:
    """Everything readable in an Adaptive Card, one line per text."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("text", "title", "label", "value", "errorMessage"):
                if isinstance(node.get(key), str):
                    found.append(node[key])
            for key in ("body", "items", "actions", "facts", "columns"):
                walk(node.get(key))
        elif isinstance(node, list):
            for entry in node:
                walk(entry)

    walk(content)
    return "\n".join(found)


def buttons(content: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("Action.Execute", "Action.Submit"):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for entry in node:
                walk(entry)

    walk(content)
    return found


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def signed(key: rsa.RSAPrivateKey, claims: dict[str, Any], kid: str = KID) -> str:
    """A token as the Bot Framework signs it (RS256, its key id in the header)."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return jwt.encode(claims, pem, algorithm="RS256", headers={"kid": kid})


@dataclass
class FakeConnector:
    members: dict[str, list[Person]] = field(default_factory=dict)  # conversation → its roster
    sent: list[Sent] = field(default_factory=list)
    faults: list[tuple[int, float | None]] = field(default_factory=list)  # (status, Retry-After) of next calls
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""
    created: list[str] = field(default_factory=list)  # personal chats the bot opened
    uninstalled: set[str] = field(default_factory=set)  # users without the app: no chat can be opened
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    key: rsa.RSAPrivateKey = field(default_factory=rsa_key)  # the Bot Framework's signing key, JWKS at /keys

    def jwks_url(self) -> str:
        return f"{self.url}keys"

    def token(self, app_id: str, *, issuer: str = BOT_FRAMEWORK_ISSUER, key: rsa.RSAPrivateKey | None = None,
              lifetime: int = 3600) -> str:
        now = int(time.time())
        return signed(key or self.key, {"iss": issuer, "aud": app_id, "serviceurl": self.url, "nbf": now - 5,
                                        "iat": now - 5, "exp": now + lifetime})

    async def keys(self, _: web.Request) -> web.Response:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return web.json_response({"keys": [public | {"kid": KID, "use": "sig", "alg": "RS256"}]})

    async def start(self) -> FakeConnector:
        app = web.Application()
        app.router.add_post("/v3/conversations", self.create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self.post)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self.post)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self.put)
        app.router.add_get("/v3/conversations/{conversation}/members", self.roster)
        app.router.add_get("/keys", self.keys)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        self.faults += [(status, retry_after)] * times

    def _fault(self) -> web.Response | None:
        if not self.faults:
            return None
        status, retry = self.faults.pop(0)
        headers = {"Retry-After": str(int(retry))} if retry is not None else {}
        return web.json_response({"error": {"code": "Throttled" if status == 429 else "ServiceError"}},
                                 status=status, headers=headers)

    def _record(self, sent: Sent) -> None:
        self.sent.append(sent)
        self.changed.set()

    @staticmethod
    def _token(request: web.Request) -> str:
        return request.headers.get("Authorization", "").removeprefix("Bearer ")

    async def post(self, request: web.Request) -> web.Response:
        if (fault := self._fault()) is not None:
            return fault
        body = await request.json()
        if body.get("type") != "message" or not (body.get("text") or body.get("attachments")):
            return web.json_response({"error": {"code": "BadArgument", "message": "empty message"}}, status=400)
        activity_id = f"1700000000{next(self._ids):03d}"
        kind = "reply" if "activity" in request.match_info else "send"
        body["replyToId"] = request.match_info.get("activity", body.get("replyToId"))
        self._record(Sent(kind, request.match_info["conversation"], activity_id, body, self._token(request)))
        return web.json_response({"id": activity_id}, status=201)

    async def put(self, request: web.Request) -> web.Response:
        if (fault := self._fault()) is not None:
            return fault
        activity_id = request.match_info["activity"]
        conversation = request.match_info["conversation"]
        if not any(s.activity_id == activity_id and s.conversation == conversation for s in self.sent):
            return web.json_response({"error": {"code": "ActivityNotFound"}}, status=404)
        self._record(Sent("update", conversation, activity_id, await request.json(), self._token(request)))
        return web.json_response({"id": activity_id})

    async def create(self, request: web.Request) -> web.Response:
        """A personal chat (Teams bots cannot create group chats): one member, the bot, the tenant."""
        if (fault := self._fault()) is not None:
            return fault
        body = await request.json()
        members = body.get("members") or []
        if body.get("isGroup") or len(members) != 1 or not (body.get("bot") or {}).get("id") \
                or not body.get("tenantId"):
            return web.json_response({"error": {"code": "BadArgument"}}, status=400)
        if members[0].get("id") in self.uninstalled:
            return web.json_response({"error": {"code": "Forbidden", "message": "app not installed"}}, status=403)
        conversation = f"a:personal-new-{members[0]['id']}"
        self.created.append(conversation)
        return web.json_response({"id": conversation}, status=201)

    async def roster(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"].split(";")[0]
        if conversation not in self.members:
            return web.json_response({"error": {"code": "ConversationNotFound"}}, status=404)
        return web.json_response([{**p.account(), "userPrincipalName": f"{p.aad}@school.nl"}
                                  for p in self.members[conversation]])

    async def wait_for(self, check: Callable[[list[Sent]], bool]) -> list[Sent]:
        """Until `check(sent)` holds (waiting on what is recorded, never a fixed sleep)."""
        async with asyncio.timeout(WAIT):
            while not check(self.sent):
                self.changed.clear()
                await self.changed.wait()
        return self.sent

    def to(self, conversation: str, kind: str = "") -> list[Sent]:
        return [s for s in self.sent if s.conversation == conversation and (not kind or s.kind == kind)]


class TeamsSender:
    """Activities as Teams posts them to the bot (`token`: the bearer token, "" for none)."""

    def __init__(self, session: aiohttp.ClientSession, url: str, fake: FakeConnector, token: str = "") -> None:
        self.session, self.url, self.fake, self.token = session, url, fake, token
        self.ids = itertools.count(1)

    def base(self, who: Person, conversation: str, kind: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "channelId": "msteams", "serviceUrl": self.fake.url, "id": f"act{next(self.ids)}",
            "timestamp": "2026-12-04T10:00:00Z", "from": who.account(),
            "recipient": {"id": BOT_ID, "name": "netwerkbot"},
            "conversation": {"id": conversation, "conversationType": kind, "tenantId": TENANT},
            "channelData": {"tenant": {"id": TENANT}}}
        if kind == "channel":
            data["channelData"] |= {"team": {"id": "19:team@thread.tacv2"}, "channel": {"id": conversation}}
        return data

    async def post(self, activity: dict[str, Any], token: str | None = None) -> aiohttp.ClientResponse:
        bearer = self.token if token is None else token
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        async with self.session.post(self.url, json=activity, headers=headers) as response:
            await response.read()
            return response

    async def message(self, who: Person, text: str, conversation: str = "", kind: str = "personal",
                      mention: bool = False) -> aiohttp.ClientResponse:
        conversation = conversation or f"a:personal-{who.aad}"
        activity = self.base(who, conversation, kind) | {"type": "message", "text": text, "textFormat": "plain"}
        if mention:
            activity["text"] = f"<at>netwerkbot</at> {text}"
            activity["entities"] = [{"type": "mention", "text": "<at>netwerkbot</at>",
                                     "mentioned": {"id": BOT_ID, "name": "netwerkbot"}}]
        return await self.post(activity)

    async def invoke(self, who: Person, name: str, value: dict[str, Any], conversation: str = "",
                     kind: str = "personal") -> tuple[int, Any]:
        conversation = conversation or f"a:personal-{who.aad}"
        activity = self.base(who, conversation, kind) | {"type": "invoke", "name": name, "value": value}
        bearer = self.token
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        async with self.session.post(self.url, json=activity, headers=headers) as response:
            return response.status, await response.json(content_type=None)

    async def press(self, who: Person, action: dict[str, Any], inputs: dict[str, str] | None = None,
                    conversation: str = "", kind: str = "personal") -> tuple[int, Any]:
        """An Action.Execute pressed: Teams sends its verb and data, the card's inputs merged into the data."""
        data = {**action.get("data", {}), **(inputs or {})}
        return await self.invoke(who, "adaptiveCard/action",
                                 {"action": {"type": "Action.Execute", "verb": action.get("verb"), "data": data}},
                                 conversation, kind)

    async def installed(self, who: Person, conversation: str, kind: str = "channel") -> aiohttp.ClientResponse:
        activity = self.base(who, conversation, kind) | {
            "type": "conversationUpdate", "membersAdded": [{"id": BOT_ID}]}
        return await self.post(activity)
