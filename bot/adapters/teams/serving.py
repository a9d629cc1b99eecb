"""Serving Teams: `POST /api/messages` (the token checked by the SDK before anything is read), `GET /healthz`,
the bot's own routes, and `netwerkbot teams` until SIGINT/SIGTERM."""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web
from microsoft_agents.hosting.aiohttp import jwt_authorization_decorator
from pydantic import ValidationError

from bot.adapters.base import http_runner, settle, until_signal
from bot.core.port import Port

if TYPE_CHECKING:
    from bot.adapters.teams.adapter import TeamsAdapter
    from bot.adapters.teams.state import TeamsState

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"
HEALTH_PATH = "/healthz"


def web_app(adapter: TeamsAdapter) -> web.Application:
    """The aiohttp application; not started here (`serve` runs it, tests run it on a random port)."""
    port = adapter.port

    async def activity(request: web.Request) -> web.StreamResponse:
        refused = web.json_response({"error": adapter.t("teams.malformed")}, status=400)
        try:
            body = await request.json()
        except ValueError:
            return refused
        if not isinstance(body, dict) or not body.get("type") or not isinstance(body.get("conversation"), dict) \
                or not body["conversation"].get("id"):
            return refused
        try:  # the SDK reads the activity (pydantic) before anything else happens
            response = await adapter.cloud.process(request, adapter)
        except ValidationError:
            return refused
        return response if response is not None else web.Response(status=202)

    # the SDK's check of Teams' token (signature, audience, issuer), before the body is read
    messages: Callable[[web.Request], Awaitable[web.StreamResponse]] = jwt_authorization_decorator(activity)  # type: ignore[no-untyped-call]

    async def healthz(_: web.Request) -> web.Response:
        if not await port.healthy():
            return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
        return web.json_response({"status": "ok", "database": "ok"})

    async def finish_background(_: web.Application) -> None:
        await adapter.drain()

    app = web.Application()
    app["agent_configuration"] = adapter.auth  # the key the SDK's token check reads
    app.router.add_post(MESSAGES_PATH, messages)
    app.router.add_get(HEALTH_PATH, healthz)
    port.add_routes(app)
    app.on_shutdown.append(finish_background)
    return app


async def serve(bot: Port, store: TeamsState, port: int) -> int:
    """`netwerkbot teams`: serve the Bot Framework endpoint on `port` until a signal."""
    from bot.adapters.teams.adapter import TeamsAdapter, missing_settings
    from bot.adapters.teams.events import PLATFORM

    missing = missing_settings(bot.settings)
    if missing:
        print(bot.catalog("teams.missing_settings", names=", ".join(missing)), file=sys.stderr)
        return 2
    await bot.start()
    adapter = TeamsAdapter(bot, store)
    await bot.keep_time(adapter, PLATFORM)
    adapter.background(adapter.sync_circles(), "circle members")
    runner = http_runner(web_app(adapter))
    try:
        await runner.setup()
        await web.TCPSite(runner, port=port).start()
        log.info("listening on port %s: POST %s, GET %s", port, MESSAGES_PATH, HEALTH_PATH)
        settle()
        await until_signal()
        log.info("stopping")
    finally:
        await runner.cleanup()
        await adapter.drain()
        await bot.stop()
    return 0
