"""Matrix (matrix-nio): `netwerkbot matrix`. See bot/adapters/matrix/adapter.py for how it maps."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator

from aiohttp import web

from bot.adapters.base import http_runner, settle, until_signal
from bot.adapters.matrix.adapter import MatrixAdapter, running
from bot.adapters.matrix.state import MatrixState
from bot.core.port import Port
from config.settings import Settings

__all__ = ["MatrixAdapter", "metrics_served", "missing_settings", "running", "serve"]

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def metrics_served(bot: Port, adapter: MatrixAdapter, port: int | None) -> AsyncIterator[None]:
    if port is None:
        yield
        return
    app = web.Application()
    bot.add_routes(app, undecryptable=adapter.crypto.counts)
    runner = http_runner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, port=port).start()
        yield
    finally:
        await runner.cleanup()


def missing_settings(settings: Settings) -> list[str]:
    missing = [name for name, value in (("MATRIX_HOMESERVER", settings.matrix_homeserver),
                                        ("MATRIX_USER_ID", settings.matrix_user_id)) if not value]
    if settings.matrix_password is None and settings.matrix_access_token is None:
        missing.append("MATRIX_PASSWORD / MATRIX_ACCESS_TOKEN")
    return missing


async def serve(bot: Port, state: MatrixState, port: int | None = None) -> int:
    """`netwerkbot matrix`: log in (or reuse the kept device), sync until a signal; with `port`, serve
    `/metrics` and `/healthz/…` there too (bot/metrics.py, with the count of undecryptable events)."""
    missing = missing_settings(bot.settings)
    if missing:
        print(bot.catalog("matrix.missing_settings", names=", ".join(missing)), file=sys.stderr)
        return 2
    await bot.start()
    adapter = MatrixAdapter(bot, state)
    try:
        async with running(adapter) as sync, metrics_served(bot, adapter, port):
            log.info("connected to %s as %s (device %s)", bot.settings.matrix_homeserver, adapter.user_id,
                     adapter.device_id)
            settle()
            await until_signal(sync)
            if sync.done() and not sync.cancelled() and sync.exception() is not None:
                log.error("the Matrix sync stopped: %s", sync.exception())
                return 1
        log.info("stopping")
    except RuntimeError as error:  # cannot log in: said in Dutch
        print(error, file=sys.stderr)
        return 2
    finally:
        await bot.stop()
    return 0
