"""Serving Slack: the aiohttp application (events over HTTP, the health check, the calendar feeds) and
`netwerkbot slack`, in HTTP or Socket Mode, until SIGINT/SIGTERM."""

from __future__ import annotations

import contextlib
import hmac
import logging
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.adapters.base import http_runner, settle, until_signal
from bot.core.port import Port

if TYPE_CHECKING:
    from bot.adapters.slack.adapter import SlackAdapter

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
CALENDAR_PATH = "/agenda/{token}/{series}.ics"


def web_app(adapter: SlackAdapter, *, events: bool = True) -> web.Application:
    """`POST /slack/events` (unless Socket Mode carries them), `GET /healthz`, and the calendar feeds when
    NETWERKBOT_CALENDAR_TOKEN is set.

    Not started here: `serve` runs it, tests run it on a random port. On shutdown it waits for
    the background work of requests already answered.
    """
    port = adapter.port

    async def handle_events(request: web.Request) -> web.Response:
        return await adapter.door.handle(request)  # edge (issue 14): signature and schema first

    async def healthz(_: web.Request) -> web.Response:
        """200 when the database answers a `SELECT 1` within 2 seconds, else 503."""
        if not await port.healthy():
            return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
        return web.json_response({"status": "ok", "database": "ok"})

    async def calendar(request: web.Request) -> web.Response:
        """A series' iCalendar feed, for Outlook and the like; 404 for a wrong token or series (same answer)."""
        secret = port.settings.calendar_token
        token = request.match_info["token"].encode()
        if secret is None or not hmac.compare_digest(token, secret.get_secret_value().encode()):
            raise web.HTTPNotFound()
        feed = await port.calendar_feed(request.match_info["series"])
        if feed is None:
            raise web.HTTPNotFound()
        return web.Response(body=feed, content_type="text/calendar", charset="utf-8",
                            headers={"Cache-Control": "private, max-age=300"})

    async def finish_background(_: web.Application) -> None:
        await adapter.drain()

    app = web.Application()
    if events:
        app.router.add_post(EVENTS_PATH, handle_events)
    app.router.add_get(HEALTH_PATH, healthz)
    port.add_routes(app)  # GET /metrics, /healthz/live, /healthz/ready (bot/metrics.py)
    if port.settings.calendar_token is not None:
        app.router.add_get(CALENDAR_PATH, calendar)
    async def handle_leftovers(_: web.Application) -> None:
        adapter.background(adapter.handle_leftovers(), "inbox leftovers")

    async def connections(_: web.Application) -> AsyncIterator[None]:
        """While serving, the calls to Slack share one aiohttp session, so they reuse their connections: slack_sdk
        otherwise opens a session, and a TCP and TLS connection, for every call (a profile look-up beside the next
        request held the event loop 0.4-0.9 ms setting one up; bench/README.md, issue 19). Outside it, as before."""
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=adapter.client.timeout))
        adapter.client.session = adapter.outbox_client.session = session
        try:
            yield
        finally:
            adapter.client.session = adapter.outbox_client.session = None
            await session.close()

    app.cleanup_ctx.append(connections)
    app.on_startup.append(handle_leftovers)
    app.on_shutdown.append(finish_background)
    return app


async def serve(bot: Port, port: int) -> int:
    """`netwerkbot slack`: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on `port`; runs until a signal."""
    from bot.adapters.slack.adapter import SlackAdapter, missing_settings
    from bot.adapters.slack.events import PLATFORM

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
    runner = http_runner(adapter.web_app(events=socket is None))
    try:
        await runner.setup()
        await web.TCPSite(runner, port=port).start()
        if socket is not None:
            await socket.connect_async()  # type: ignore[no-untyped-call]
            log.info("connected to Slack in Socket Mode; health on port %s%s", port, HEALTH_PATH)
        else:
            log.info("listening on port %s: POST %s, GET %s", port, EVENTS_PATH, HEALTH_PATH)
        settle()
        await until_signal()
        log.info("stopping")
    finally:
        if socket is not None:
            with contextlib.suppress(Exception):
                await socket.close_async()  # type: ignore[no-untyped-call]
        await runner.cleanup()
        await adapter.drain()
        await bot.stop()
    return 0
