"""Hypothesis at the door: whatever reaches POST /slack/events, signed or not, is never a 5xx or a traceback.

The real bolt app behind the real aiohttp app, in process (aiohttp's TestServer), its Web API on
the fake Slack. Each example is a batch of requests sent together: every payload kind the bot
knows (slash commands, button presses, form submissions, events: message, message_changed,
message_deleted, reaction_added, others; shortcuts), each field kept, dropped or replaced by
something hostile (huge numbers, NUL bytes, any Unicode, wrong types, nesting), then signed, signed
with a wrong secret, or not signed at all; and raw bytes that are no payload at all.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.slack import SlackAdapter
from bot.core.clock import ManualClock
from tests.adapters.test_slack_e2e import SECRET
from tests.conftest import started_bot
from tests.fake_slack import TEAM_ID, FakeSlack, signature_headers

BATCH = 25
EXAMPLES = 400  # × BATCH: 10,000 requests
CHANNEL = "C0NETWERK"
NOWHERE = "http://127.0.0.1:9/response/x"  # replaced by the fake's response_url when sent

huge = st.integers(min_value=-(10**40), max_value=10**40)
hostile_text = st.one_of(
    st.text(max_size=40), st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.sampled_from(["", "\x00", "a\x00b", "99999999999999999999", "²", "-1", "1e400", "NaN", "\n\r", "<!channel>",
                     "𝟙𝟚", "٣", "x" * 5000, "U0ASKER", "C0NETWERK", "1:99999999999999999999", "1:-1", "0:0", "1:٣"]),
    huge.map(str))
hostile: st.SearchStrategy[Any] = st.recursive(
    st.one_of(st.none(), st.booleans(), huge, st.floats(allow_nan=True), hostile_text),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)


@st.composite
def mutated(draw: st.DrawFn, template: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """The template with each field kept, dropped or replaced by something hostile (nested dicts too)."""
    out: dict[str, Any] = {}
    for key, value in template.items():
        choice = draw(st.sampled_from(["keep", "keep", "keep", "drop", "hostile"]))
        if choice == "drop":
            continue
        if choice == "hostile":
            out[key] = draw(hostile)
        elif isinstance(value, dict) and depth < 3:
            out[key] = draw(mutated(value, depth + 1))
        elif isinstance(value, list) and value and isinstance(value[0], dict) and depth < 3:
            out[key] = [draw(mutated(value[0], depth + 1))]
        else:
            out[key] = value
    if draw(st.booleans()) and draw(st.booleans()):
        out[draw(st.text(max_size=10))] = draw(hostile)
    return out


USER = {"id": "U0ASKER", "username": "piet", "name": "piet", "team_id": TEAM_ID}
COMMANDS = ["/expertise", "/pitch", "/stemming", "/overleg", "/idee", "/netwerkbot", "/onbekend"]
WORDS = ["", "help", "gedrag", "agenda Punt", "schrappen ²", "schrappen 99999999999999999999", "sluiten 1",
         "export 99999999999999999999", "1", "99999999999999999999", "profiel", "wijzigen 1"]


@st.composite
def command(draw: st.DrawFn) -> tuple[str, str]:
    fields: dict[str, Any] = {"token": "x", "team_id": TEAM_ID, "channel_id": CHANNEL, "user_id": "U0ASKER",
                              "user_name": "piet", "command": draw(st.sampled_from(COMMANDS)),
                              "text": draw(st.one_of(st.sampled_from(WORDS), hostile_text)),
                              "response_url": NOWHERE, "trigger_id": "1.2.3"}
    form = draw(mutated(fields))
    return urllib.parse.urlencode({str(k): json.dumps(v) if not isinstance(v, str) else v for k, v in form.items()}), \
        "application/x-www-form-urlencoded"


def interaction(payload: Any) -> tuple[str, str]:
    return urllib.parse.urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"


@st.composite
def press(draw: st.DrawFn) -> tuple[str, str]:
    action = {"action_id": draw(st.sampled_from(["stemming.stem#1", "expertise.page#2", "pitch.agenderen#1",
                                                  "circles.pick#1", "nothing"])),
              "value": draw(st.one_of(st.sampled_from(["1:0", "1:1", "2", "0"]), hostile_text)),
              "type": "button", "block_id": "b", "action_ts": "1790000000.000100"}
    payload = {"type": "block_actions", "user": USER, "channel": {"id": CHANNEL}, "trigger_id": "1.2.3",
               "response_url": NOWHERE, "actions": [action]}
    return interaction(draw(mutated(payload)))


@st.composite
def submission(draw: st.DrawFn) -> tuple[str, str]:
    values = {name: {"value": {"type": "plain_text_input", "value": draw(hostile_text)}}
              for name in ("question", "options", "title", "schools", "amount", "deadline", "text")}
    forms = ["stemming.form", "pitch.form", "circles.pickup", "unknown"]
    view = {"type": "modal", "callback_id": draw(st.sampled_from(forms)),
            "private_metadata": draw(st.one_of(st.just(json.dumps({"state": "", "channel": CHANNEL})),
                                               hostile_text, hostile.map(json.dumps))),
            "state": {"values": values}, "blocks": [{"type": "input", "block_id": "question"}]}
    payload = {"type": "view_submission", "user": USER, "trigger_id": "1.2.3", "view": view}
    return interaction(draw(mutated(payload)))


@st.composite
def event(draw: st.DrawFn) -> tuple[str, str]:
    inner = draw(st.sampled_from([
        {"type": "message", "channel": CHANNEL, "user": "U0ASKER", "text": "hallo", "ts": "1790000000.000200"},
        {"type": "message", "subtype": "message_changed", "channel": CHANNEL, "ts": "1790000000.000300",
         "message": {"user": "U0ASKER", "text": "nieuw", "ts": "1790000000.000200", "edited": {"ts": "1"}},
         "previous_message": {"user": "U0ASKER", "text": "oud", "ts": "1790000000.000200"}},
        {"type": "message", "subtype": "message_deleted", "channel": CHANNEL, "deleted_ts": "1790000000.000200",
         "previous_message": {"user": "U0ASKER", "text": "oud", "ts": "1790000000.000200"}},
        {"type": "reaction_added", "user": "U0ASKER", "reaction": "bulb",
         "item": {"type": "message", "channel": CHANNEL, "ts": "1790000000.000200"}},
        {"type": "app_mention", "user": "U0ASKER", "text": "hoi"}]))
    body = {"type": "event_callback", "team_id": TEAM_ID, "event_id": f"Ev{draw(st.integers(0, 10**6))}",
            "event": inner, "event_time": 1}
    return json.dumps(draw(mutated(body))), "application/json"


@st.composite
def other(draw: st.DrawFn) -> tuple[str, str]:
    payload = {"type": draw(st.sampled_from(["shortcut", "message_action", "view_closed", "block_suggestion"])),
               "user": USER, "callback_id": "x", "trigger_id": "1.2.3"}
    return interaction(draw(mutated(payload)))


raw = st.tuples(st.one_of(st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
                          st.sampled_from(["payload=%7Bnot+json", "[1]", "payload=null", "payload=[1]", "null",
                                           '{"type": "event_callback", "event": "x"}', "payload=%FF%FE", "{", ""])),
                st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]))
request = st.tuples(st.one_of(command(), press(), submission(), event(), other(), raw),
                    st.sampled_from(["signed", "signed", "signed", "wrong", "none", "garbled"]))


Door = tuple[aiohttp.ClientSession, str, SlackAdapter, FakeSlack]


@pytest.fixture
async def door(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Door]:
    fake = await FakeSlack().start()
    try:
        async with started_bot(sqlite_url, clock, slack_bot_token=fake.token, slack_signing_secret=SECRET,
                               slack_api_url=fake.url) as bot:
            adapter = SlackAdapter(bot)
            server = TestServer(adapter.web_app())
            await server.start_server()
            try:
                async with aiohttp.ClientSession() as session:
                    yield session, str(server.make_url("/slack/events")), adapter, fake
            finally:
                await server.close()
    finally:
        await fake.close()


def headers(kind: str, body: str, content_type: str) -> dict[str, str]:
    sent = {"Content-Type": content_type}
    if kind == "signed":
        sent |= signature_headers(SECRET, body)
    elif kind == "wrong":
        sent |= signature_headers("not-the-secret", body)
    elif kind == "garbled":
        sent |= {"X-Slack-Request-Timestamp": "１２３", "X-Slack-Signature": "v0=zz"}
    return sent


async def test_no_request_gets_a_5xx_or_a_traceback(door: Door,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    session, url, adapter, fake = door
    answers = fake.response_url("x")  # where the strategies say NOWHERE
    quoted = urllib.parse.quote_plus(answers)
    caplog.set_level(logging.INFO)
    sent = 0
    statuses: dict[int, int] = {}

    async def one(body: str, content_type: str, signing: str) -> None:
        for placeholder, real in ((NOWHERE, answers), (urllib.parse.quote_plus(NOWHERE), quoted)):
            body = body.replace(placeholder, real)
        data = body.encode("utf-8", "surrogatepass")
        async with session.post(url, data=data, headers=headers(signing, body, content_type)) as response:
            await response.read()
            statuses[response.status] = statuses.get(response.status, 0) + 1
            assert response.status < 500, (response.status, body[:300], signing)

    async def send_all(requests: list[tuple[tuple[str, str], str]]) -> None:
        await asyncio.gather(*(one(body, ct, signing) for (body, ct), signing in requests))

    loop = asyncio.get_running_loop()

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(request, min_size=BATCH, max_size=BATCH))
    def batch(requests: list[tuple[tuple[str, str], str]]) -> None:
        nonlocal sent
        asyncio.run_coroutine_threadsafe(send_all(requests), loop).result()
        sent += len(requests)

    # hypothesis drives from a thread of its own; the requests run on this loop, beside the server
    await asyncio.to_thread(batch)
    await adapter.drain()
    assert [r for r in caplog.records if r.exc_info] == [], [r.getMessage() for r in caplog.records if r.exc_info][:3]
    assert "Traceback" not in caplog.text
    assert sent >= 10_000, sent
    assert statuses.get(200, 0) > 1000 and statuses.get(401, 0) > 1000, statuses
