"""Matrix (matrix-nio): `netwerkbot matrix`. See bot/adapters/matrix/adapter.py for how it maps."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from bot.adapters.matrix.adapter import MatrixAdapter, running
from bot.app import Bot
from config.settings import Settings

__all__ = ["MatrixAdapter", "missing_settings", "running", "serve"]

log = logging.getLogger(__name__)


def missing_settings(settings: Settings) -> list[str]:
    missing = [name for name, value in (("MATRIX_HOMESERVER", settings.matrix_homeserver),
                                        ("MATRIX_USER_ID", settings.matrix_user_id)) if not value]
    if settings.matrix_password is None and settings.matrix_access_token is None:
        missing.append("MATRIX_PASSWORD / MATRIX_ACCESS_TOKEN")
    return missing


async def serve(bot: Bot) -> int:
    """`netwerkbot matrix`: log in (or reuse the kept device), sync until a signal."""
    missing = missing_settings(bot.settings)
    if missing:
        print(bot.catalog("matrix.missing_settings", names=", ".join(missing)), file=sys.stderr)
        return 2
    await bot.start()
    adapter = MatrixAdapter(bot)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with running(adapter) as sync:
            log.info("connected to %s as %s (device %s)", bot.settings.matrix_homeserver, adapter.user_id,
                     adapter.device_id)
            waiting = asyncio.create_task(stop.wait())
            await asyncio.wait({sync, waiting}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            if sync.done() and not sync.cancelled() and sync.exception() is not None:
                log.error("the Matrix sync stopped: %s", sync.exception())
                return 1
        log.info("stopping")
    except RuntimeError as error:  # cannot log in: said in Dutch
        print(error, file=sys.stderr)
        return 2
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await bot.stop()
    return 0
