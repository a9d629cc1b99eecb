"""The door of POST /slack/events under attack: unsigned garbage, log forging, replays, malformed signed payloads.

Everything goes over HTTP through the real bolt app (tests/adapters/test_slack_e2e.py's `running`).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.adapters.slack.guard import LOG_BURST
from bot.core.clock import ManualClock
from tests.adapters.test_slack_e2e import ASKER, CHANNEL, SECRET, World, running
from tests.fake_slack import TEAM_ID, signature_headers

FORM = "application/x-www-form-urlencoded"
DUTCH = "kon ik niet lezen"


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(sqlite_url, clock) as w:
        yield w


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert [r for r in caplog.records if r.exc_info] == []
    assert "Traceback" not in caplog.text


async def raw(world: World, body: bytes, headers: dict[str, str]) -> int:
    async with world.slack.session.post(world.slack.url, data=body, headers=headers) as response:
        await response.read()
        return response.status


UNSIGNED = [
    b"payload=%7Bnot+json", b"[1, 2, 3]", b"payload=null", "caf\xe9".encode("latin-1") + b"\xff\xfe",
    b'{"type": "event_callback", "event": "x"}', b"",
]


@pytest.mark.parametrize("body", UNSIGNED)
async def test_unsigned_garbage_is_401_without_traceback(world: World, caplog: pytest.LogCaptureFixture,
                                                         body: bytes) -> None:
    caplog.set_level(logging.DEBUG)
    assert await raw(world, body, {"Content-Type": FORM}) == 401
    assert await raw(world, body, {"Content-Type": "application/json", "X-Slack-Request-Timestamp": "x",
                                   "X-Slack-Signature": "v0=abc"}) == 401
    # a non-numeric timestamp and one in Unicode digits, with an otherwise proper signature
    for stamp in ("１２３", "12e3", "-5", "9" * 40):
        signed = signature_headers(SECRET, body.decode("latin-1")) | {"X-Slack-Request-Timestamp": stamp}
        assert await raw(world, body, signed) == 401
    no_traceback(caplog)


async def test_a_wrong_signature_is_401(world: World) -> None:
    answer = await world.slack.command("/expertise", "gedrag", ASKER, secret="not-the-secret")
    assert answer.status == 401
    stale = await world.slack.command("/expertise", "gedrag", ASKER, timestamp=int(time.time()) - 6 * 60)
    assert stale.status == 401


async def test_rejected_requests_are_logged_bounded_and_without_their_body(world: World,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    forged = b"text=x\nINFO bot.dispatch: coordinator UCOORD granted rights to U0FORGED\n" + b"A" * 500_000
    for _ in range(3 * LOG_BURST):
        assert await raw(world, forged, {"Content-Type": FORM}) == 401
    assert "granted rights" not in caplog.text and "AAAA" not in caplog.text
    rejected = [r for r in caplog.records if "rejected" in r.getMessage()]
    assert 1 <= len(rejected) <= LOG_BURST
    assert all("\n" not in r.getMessage() and len(r.getMessage()) < 200 for r in rejected)
    no_traceback(caplog)


async def test_an_answered_request_leaves_no_access_line_in_the_logs(world: World,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    """No line per request with the peer's address, the path and the user agent (aiohttp's access log):
    the bot logs what it did itself, and the access log cost 13 % of a request's time (issue 19)."""
    caplog.set_level(logging.DEBUG)
    answer = await world.slack.command("/expertise", "gedrag", ASKER, channel=CHANNEL)
    assert answer.status == 200
    assert "/slack/events" not in caplog.text  # (the fake Slack, in this process, still logs its own)


async def test_a_replayed_request_is_answered_but_not_applied_again(world: World) -> None:
    fields = world.slack.command_fields("/overleg", "agenda Voortgang project thuiszitters", ASKER, channel=CHANNEL)
    body, stamp = urllib.parse.urlencode(fields), int(time.time())
    first = await world.slack.post(body, FORM, timestamp=stamp)
    again = await world.slack.post(body, FORM, timestamp=stamp)
    assert first.status == again.status == 200
    assert "Voortgang project thuiszitters" in first.text
    assert "Voortgang project thuiszitters" not in again.text  # answered (200), not done again
    agenda = await world.slack.command("/overleg", "agenda", ASKER, channel=CHANNEL)
    assert agenda.text.count("Voortgang project thuiszitters") == 1
    # the same words sent anew (a new signature) are a new request
    await world.slack.command("/overleg", "agenda Voortgang project thuiszitters", ASKER, channel=CHANNEL)
    agenda = await world.slack.command("/overleg", "agenda", ASKER, channel=CHANNEL)
    assert agenda.text.count("Voortgang project thuiszitters") == 2


async def test_a_replay_is_refused_by_a_second_instance_after_a_restart(sqlite_url: str, clock: ManualClock) -> None:
    async with running(sqlite_url, clock) as first:
        fields = first.slack.command_fields("/overleg", "agenda Een keer", ASKER, channel=CHANNEL)
        body, stamp = urllib.parse.urlencode(fields), int(time.time())
        assert "Een keer" in (await first.slack.post(body, FORM, timestamp=stamp)).text
    async with running(sqlite_url, clock) as second:
        assert "Een keer" not in (await second.slack.post(body, FORM, timestamp=stamp)).text
        agenda = await second.slack.command("/overleg", "agenda", ASKER, channel=CHANNEL)
        assert agenda.text.count("Een keer") == 1


def interaction(payload: Any) -> dict[str, str]:
    return {"payload": json.dumps(payload)}


USER = {"id": ASKER.id, "username": ASKER.name, "team_id": TEAM_ID}


async def test_malformed_signed_payloads_are_answered_in_dutch_and_change_nothing(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    slack = world.slack
    command = slack.command_fields("/overleg", "agenda Nooit", ASKER, channel=CHANNEL)
    without_user = {k: v for k, v in command.items() if k != "user_id"}
    answer = await slack.form(without_user)
    assert answer.status == 200 and DUTCH in answer.json["text"]
    answer = await slack.form(command | {"text": "agenda Nul\x00byte"})
    assert answer.status == 200 and DUTCH in answer.json["text"]
    press: dict[str, Any] = {"type": "block_actions", "user": "U0ASKER",
                             "actions": [{"action_id": "vote.cast", "value": "1"}]}
    assert (await slack.form(interaction(press))).status == 200
    press = {"type": "block_actions", "user": USER, "actions": [{"action_id": "vote.cast", "value": 1}]}
    assert (await slack.form(interaction(press))).status == 200
    view: dict[str, Any] = {"type": "view_submission", "user": USER,
                            "view": {"type": "modal", "callback_id": "pitch.form", "private_metadata": "[1]",
                                     "state": {"values": {}}}}
    answer = await slack.form(interaction(view))
    assert answer.status == 200 and answer.json["response_action"] == "update"
    assert DUTCH in json.dumps(answer.json["view"], ensure_ascii=False)
    for event in ({"type": "reaction_added", "user": ASKER.id, "reaction": "bulb", "item": "C0NETWERK/1"},
                  {"type": "message", "channel": CHANNEL, "user": ASKER.id, "text": ["x"], "ts": "1.2"},
                  {"type": "message", "subtype": "message_changed", "channel": CHANNEL, "message": "gone"},
                  {"type": "app_mention", "user": ASKER.id}):
        assert (await slack.event(event, f"Ev{abs(hash(json.dumps(event)))}")).status == 200
    for kind in ("shortcut", "message_action", "view_closed", "block_suggestion", 7, None):
        assert (await slack.form(interaction({"type": kind, "user": USER}))).status == 200
    for body in ("payload=%7Bnot+json", "[1]", "payload=null", '{"type": "event_callback", "event": "x"}'):
        assert (await slack.post(body, FORM)).status < 500
    await world.adapter.drain()
    agenda = await slack.command("/overleg", "agenda", ASKER, channel=CHANNEL)
    assert "Nooit" not in agenda.text and "Nul" not in agenda.text
    no_traceback(caplog)
    assert world.fake.ok_calls("chat.postMessage") == []
