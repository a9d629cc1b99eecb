"""The operations commands beside the bot: backups, official holiday data, the DUO school import."""

from __future__ import annotations

import argparse
import sys

from config.settings import Settings


def run_operation(args: argparse.Namespace, settings: Settings) -> int:
    if args.command in ("backup", "restore"):
        from bot import backup

        return (backup.backup if args.command == "backup" else backup.restore)(settings, args.file, sys.stdout)
    if args.command == "vakanties":
        from bot.holidays import run_update

        return run_update(settings, sys.stdout, dry_run=args.proef)
    return 2
