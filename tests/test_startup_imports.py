"""What a start loads: matplotlib (0.65 s of a 3.4 s import of the bot) only when a budget round closes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_starting_the_bot_does_not_import_matplotlib() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, bot.cli, bot.app; print('matplotlib' in sys.modules)"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=120)
    assert loaded.stdout.strip() == "False"
