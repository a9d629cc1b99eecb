"""The operations commands beside the bot: backups, official holiday data, the DUO school import."""

from __future__ import annotations

import argparse
import asyncio
import sys

from config.settings import Settings


def run_operation(args: argparse.Namespace, settings: Settings) -> int:
    if args.command in ("backup", "restore"):
        from bot import backup

        return (backup.backup if args.command == "backup" else backup.restore)(settings, args.file, sys.stdout)
    if args.command == "vakanties":
        from bot.holidays import run_update

        return run_update(settings, sys.stdout, dry_run=args.proef)
    if args.command == "import" and args.kind == "duo":
        from bot.app import build
        from bot.duo import run_duo

        return asyncio.run(run_duo(build(settings), args.file, args.swv))
    return 2
