"""The operations commands beside the bot: backups, official holiday data, the DUO school import."""

from __future__ import annotations

import argparse

from config.settings import Settings


def run_operation(args: argparse.Namespace, settings: Settings) -> int:
    return 2
