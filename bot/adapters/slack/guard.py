"""The door of `POST /slack/events`: nothing of a request is read before its signature holds.

Bolt would parse the body first (`AsyncBoltRequest` decodes form fields and JSON in its
constructor) and only then verify it, so unsigned garbage could end in a 500 with a traceback,
and its verification middleware logs the whole body of a rejected request at INFO. Here the raw
bytes are checked as Slack prescribes (https://api.slack.com/authentication/verifying-requests-from-slack):
`X-Slack-Request-Timestamp` must be plain digits within five minutes of now, `X-Slack-Signature`
the `v0=` HMAC-SHA256 of `v0:{timestamp}:{body}`, compared in constant time. Whatever fails is
answered 401 and logged as one short line without body or header values; those lines are
themselves bounded (`LOG_BURST` per `LOG_WINDOW`, then a count), so anonymous senders can fill
neither the log nor forge a line in it.

A request that passes gets a key: a hash of exactly the signed bytes. The Slack adapter uses it
as the delivery id of what the request causes, claimed in the same transaction as its effect, so
the same signed bytes sent again within Slack's window are answered but not applied again (see
`request_key`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.adapters.slack.payloads import Refusal, is_slash_command, judge

log = logging.getLogger(__name__)

WINDOW_SECONDS = 5 * 60  # Slack's: a request older (or newer) than this is refused
LOG_BURST = 10  # rejected requests logged one by one per window …
LOG_WINDOW = 60.0  # … of this many seconds; beyond it they are counted
TIMESTAMP = re.compile(r"[0-9]{1,12}")
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
KEY_PREFIX = "sig:"

# the key of the signed request being handled, for the listeners bolt calls within it
_request_key: ContextVar[str] = ContextVar("slack_request_key", default="")


def request_key(part: int = 0) -> str:
    """The delivery id for what the current signed request causes ("" outside one, e.g. Socket Mode);
    `part` tells apart several inputs of one request (the actions of one block_actions payload)."""
    key = _request_key.get()
    return f"{key}:{part}" if key and part else key


def set_request_key(key: str) -> None:
    _request_key.set(key)


@dataclass
class RejectionLog:
    """Rejected requests in the log: one short line each up to `LOG_BURST` per `LOG_WINDOW`, then a count."""

    clock: Callable[[], float] = time.monotonic
    started: float = field(default=float("-inf"))
    logged: int = 0
    suppressed: int = 0

    def rejected(self, reason: str, size: int, peer: str) -> None:
        now = self.clock()
        if now - self.started >= LOG_WINDOW:
            if self.suppressed:
                log.warning("rejected %d more unsigned Slack requests in the last minute", self.suppressed)
            self.started, self.logged, self.suppressed = now, 0, 0
        if self.logged >= LOG_BURST:
            self.suppressed += 1
            return
        self.logged += 1
        # reason is one of ours; size a number; peer an address aiohttp parsed: nothing a sender wrote
        log.warning("rejected Slack request: %s (%d bytes from %s)", reason, size, peer)


class SlackGuard:
    """Checks Slack's signature over the raw bytes; logs what it rejects, bounded and without the body."""

    def __init__(self, signing_secret: str, *, clock: Callable[[], float] = time.time,
                 rejections: RejectionLog | None = None) -> None:
        self._secret = signing_secret.encode()
        self._clock = clock
        self.rejections = rejections or RejectionLog()

    def problem(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        """Why this request is not Slack's, or None when it is signed and fresh."""
        stamp = headers.get("X-Slack-Request-Timestamp", "")
        signature = headers.get("X-Slack-Signature", "")
        if not stamp or not signature:
            return "unsigned"
        if not TIMESTAMP.fullmatch(stamp):
            return "malformed timestamp"
        if abs(self._clock() - int(stamp)) > WINDOW_SECONDS:
            return "timestamp outside the window"
        if not SIGNATURE.fullmatch(signature):
            return "malformed signature"
        expected = "v0=" + hmac.new(self._secret, b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return "wrong signature"
        return None

    def check(self, body: bytes, headers: Mapping[str, str], peer: str) -> str | None:
        """The request's key when it is signed and fresh, else None (and the rejection logged)."""
        reason = self.problem(body, headers)
        if reason is not None:
            self.rejections.rejected(reason, len(body), peer)
            return None
        stamp = headers["X-Slack-Request-Timestamp"]
        return KEY_PREFIX + hashlib.sha256(stamp.encode() + b":" + body).hexdigest()[:48]


# -- the whole door: signature, parse, schema, then bolt -------------------------------------------------

MAX_REASON = 200


def _loggable(reason: str) -> str:
    """A reason for the log: one line, bounded (field names in it may come from a signed sender)."""
    return reason.encode("unicode_escape").decode("ascii")[:MAX_REASON]


class SlackDoor:
    """`POST /slack/events`: verified first, then parsed as bolt parses it, judged by its schema, then routed.

    `app` is the bolt AsyncApp (its own verification is off: this door is it); `say` gives the Dutch
    sentence for a signed request that is malformed; `expect` is told of a slash command (who sent it) before
    bolt routes it (`Port.expect_input`)."""

    def __init__(self, guard: SlackGuard, app: AsyncApp, say: Callable[[], str], expect: Callable[[str], None]) -> None:
        self.guard = guard
        self.app = app
        self.say = say
        self.expect = expect

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        key = self.guard.check(body, request.headers, str(request.remote or "-"))
        if key is None:
            return web.Response(status=401, text="")
        try:
            bolt_request = AsyncBoltRequest(body=body.decode("utf-8"), query=request.query_string,
                                            headers=dict(request.headers))
        except Exception:  # not UTF-8, not JSON, JSON of the wrong kind: bolt could not even read it
            log.warning("signed Slack request not readable (%d bytes)", len(body))
            return web.Response(status=400, text="")
        refusal = judge(bolt_request.body)
        if refusal is not None:
            log.info("signed Slack request answered at the edge: %s", _loggable(refusal.reason))
            return self.refuse(refusal)
        if is_slash_command(bolt_request.body):  # answered in this response: its first reads may start now
            self.expect(str(bolt_request.body["user_id"]))
        set_request_key(key)
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    def refuse(self, refusal: Refusal) -> web.Response:
        if refusal.tell == "text":
            return web.json_response({"response_type": "ephemeral", "text": self.say()}, status=refusal.status)
        if refusal.tell == "modal":
            view = {"type": "modal", "title": {"type": "plain_text", "text": "netwerkbot"},
                    "blocks": [{"type": "section", "text": {"type": "plain_text", "text": self.say()}}]}
            return web.json_response({"response_action": "update", "view": view}, status=refusal.status)
        return web.Response(status=refusal.status, text="")
