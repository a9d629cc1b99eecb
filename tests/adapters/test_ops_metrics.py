"""GET /metrics, /healthz/live and /healthz/ready on the Slack HTTP server, fed by signed Slack requests
through the real bolt app; and JSON log lines that carry the input's reference id, never its text."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert

from bot.app import Bot
from bot.core.clock import ManualClock
from bot.core.inputs import Command
from bot.logs import configure
from handlers.context import HandlerContext
from storage.models import Occurrence, OutboxMessage
from tests.adapters.test_slack_e2e import ASKER, cli, running
from tests.support import actor, text_of


async def scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with aiohttp.ClientSession() as session, session.get(f"{base}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = await response.text()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_inputs_latency_errors_and_the_database_in_the_metrics(sqlite_url: str, clock: ManualClock) -> None:
    async with running(sqlite_url, clock) as world:
        now = clock.now()
        async with world.bot.db.engine.begin() as c:
            await c.execute(insert(OutboxMessage).values(
                key="weg", channel="C0GONE", body="{}", created_at=now - timedelta(days=1), next_attempt_at=now,
                attempts=5, failed_at=now, last_error="channel_not_found", message_ref=""))
            await c.execute(insert(OutboxMessage).values(
                key="wacht", channel="C0INNER", body="{}", created_at=now - timedelta(minutes=10),
                next_attempt_at=now + timedelta(minutes=5), attempts=1, last_error="ratelimited", message_ref=""))
            for key, state, due in (("a", "pending", now - timedelta(minutes=1)), ("b", "pending", now + timedelta(1)),
                                    ("c", "missed", now - timedelta(days=1)), ("d", "late", now - timedelta(days=2))):
                await c.execute(insert(Occurrence).values(key=key, kind="meeting_reminder", payload="{}", due_at=due,
                                                          state=state))
        world.bot.refresher.updates["vote:1"] += 2

        assert (await world.slack.command("/expertise", "help", ASKER)).status == 200
        assert (await world.slack.command("/expertise", "", ASKER)).status == 200
        assert (await world.slack.command("/bestaatniet", "x", ASKER)).status == 200
        found = await scrape(world.base)

    assert found[("netwerkbot_inputs_total", (("feature", "expertise"), ("kind", "command")))] == 2
    assert found[("netwerkbot_inputs_total", (("feature", "bestaatniet"), ("kind", "command")))] == 1
    assert found[("netwerkbot_errors_total", (("kind", "user"),))] == 1  # the unknown command, told in Dutch
    assert found[("netwerkbot_errors_total", (("kind", "unexpected"),))] == 0
    assert found[("netwerkbot_answer_seconds_count", (("phase", "ack"),))] == 3
    assert found[("netwerkbot_answer_seconds_count", (("phase", "after"),))] == 0
    assert found[("netwerkbot_outbox_backlog", ())] == 1
    assert found[("netwerkbot_outbox_oldest_seconds", ())] == 600
    assert found[("netwerkbot_outbox_failed", ())] == 1
    assert found[("netwerkbot_occurrences", (("state", "due"),))] == 1
    assert found[("netwerkbot_occurrences", (("state", "missed"),))] == 1
    assert found[("netwerkbot_occurrences", (("state", "late"),))] == 1
    assert found[("netwerkbot_refresher_updates_total", ())] == 2
    assert found[("netwerkbot_database_up", ())] == 1


async def test_liveness_readiness_and_the_old_health_check(sqlite_url: str, clock: ManualClock) -> None:
    async with running(sqlite_url, clock) as world, aiohttp.ClientSession() as session:
        for path in ("/healthz", "/healthz/ready"):
            async with session.get(world.base + path) as response:
                assert (response.status, await response.json()) == (200, {"status": "ok", "database": "ok"})
        await world.bot.db.engine.dispose()
        world.bot.db.engine.sync_engine.pool._creator = _refuse  # type: ignore[assignment]  # the database goes away
        async with session.get(world.base + "/healthz/live") as response:
            assert (response.status, await response.json()) == (200, {"status": "ok"})
        for path in ("/healthz", "/healthz/ready"):
            async with session.get(world.base + path) as response:
                assert response.status == 503, path
        found = await scrape(world.base)
        assert found[("netwerkbot_database_up", ())] == 0


def _refuse(*_: object) -> object:
    raise OSError("database gone")


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The root logger as `netwerkbot` sets it up with NETWERKBOT_LOG_FORMAT=json, into a buffer."""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    configure("INFO", "json")
    buffer = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers, root.level = saved, level


async def test_json_log_lines_carry_the_reference_and_no_message_text(sqlite_bot: Bot, log_lines: io.StringIO) -> None:
    async def broken(_ctx: HandlerContext, _command: Command) -> None:
        raise RuntimeError("a bug")

    sqlite_bot.registry.commands["kapot"] = broken
    secret = "mijn leerling Jan de Vries uit groep 5"

    outcome = await sqlite_bot.dispatcher.dispatch(Command("kapot", secret, actor("U9")))

    reference = text_of(outcome).split("kenmerk ")[1].rstrip(".")
    events = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    error = next(e for e in events if e["level"] == "ERROR")
    assert error["ref"] == reference
    assert "RuntimeError: a bug" in error["traceback"]
    assert error["logger"] == "bot.dispatch"
    assert secret not in log_lines.getvalue()


async def test_the_running_bot_has_its_start_up_frozen_out_of_the_collectors_full_passes(tmp_path: Path) -> None:
    """`netwerkbot slack` itself: once it serves, what start-up built is no longer scanned by every full pass of
    the garbage collector (bot/adapters/base.py `settle`), which under a burst stopped the loop for 110-150 ms."""
    async with cli(tmp_path) as (_fake, port, _process):
        found = await scrape(f"http://127.0.0.1:{port}")
    assert found[("netwerkbot_gc_frozen_objects", ())] > 50_000
