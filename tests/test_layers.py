"""The direction of the house (DESIGN.md), read from the imports themselves:

    bot/adapters → bot/core ← handlers → storage → config

- handlers/ and storage/ never import a platform library (slack, nio) or an adapter;
- bot/core imports nothing of the project but itself and config (settings, catalogue);
- handlers/ import of bot/ only bot/core; storage/ imports neither bot/ nor handlers/; config/ only itself;
- the runtime (dispatch, scheduler, refresh, outbox) imports no feature;
- adapters import neither the composition root (bot.app) nor a feature (handlers);
- no production module is over 500 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = ("nio", "slack_bolt", "slack_sdk", "bot.adapters")
RUNTIME = ("bot/dispatch.py", "bot/scheduler.py", "bot/refresh.py", "bot/outbox.py", "bot/events.py")
MAX_LINES = 500


def imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.append(node.module or "")
    return names


def under(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def offending(files: list[Path], forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    return [f"{path.relative_to(ROOT)} imports {name}" for path in files for name in imports(path)
            if under(name, *forbidden) and not under(name, *allowed)]


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("folder", ["handlers", "storage", "config"])
def test_features_and_storage_import_no_platform(folder: str) -> None:
    assert offending(python_files(folder), PLATFORMS) == []


def test_the_core_imports_only_itself_and_config() -> None:
    assert offending(python_files("bot/core"), ("bot", "handlers", "storage", *PLATFORMS), ("bot.core",)) == []


def test_features_import_of_the_runtime_only_the_core() -> None:
    assert offending(python_files("handlers"), ("bot",), ("bot.core",)) == []


def test_storage_and_config_point_downwards() -> None:
    assert offending(python_files("storage"), ("bot", "handlers")) == []
    assert offending(python_files("config"), ("bot", "handlers", "storage")) == []


def test_the_runtime_imports_no_feature() -> None:
    assert offending([ROOT / f for f in RUNTIME], ("handlers", "bot.app", "bot.adapters")) == []


def test_adapters_get_a_port_not_the_bot() -> None:
    assert offending(python_files("bot/adapters"), ("bot.app", "handlers")) == []


def test_no_module_over_500_lines() -> None:
    big = [f"{p.relative_to(ROOT)}: {n} lines" for folder in ("bot", "handlers", "storage", "config")
           for p in python_files(folder) if "migrations" not in p.parts
           and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert big == []


def test_adapters_see_only_the_port() -> None:
    """bot/adapters import bot/core (the port, inputs, replies), config and their platform library: not the
    composition root, the features, the runtime or the database (their state comes in through a port too)."""
    assert offending(python_files("bot/adapters"), ("bot", "handlers", "storage"), ("bot.core", "bot.adapters")) == []
