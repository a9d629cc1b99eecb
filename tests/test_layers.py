"""Dependencies point one way (DESIGN.md): handlers/ and storage/ never import a platform library or an adapter."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("nio", "slack_bolt", "slack_sdk", "bot.adapters")


@pytest.mark.parametrize("folder", ["handlers", "storage"])
def test_no_platform_imports(folder: str) -> None:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.relative_to(ROOT)}: {n}" for n in names
                      if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)]
    assert found == []


def imports_of(path: Path) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.append(node.module or "")
    return found


def test_adapters_see_only_the_port() -> None:
    """bot/adapters import bot/core (the port, inputs, replies), config and their platform library: not the
    composition root, the features, the runtime or the database (their state comes in through a port too)."""
    allowed_bot = ("bot.core", "bot.adapters")
    found = [f"{path.relative_to(ROOT)}: {name}" for path in sorted((ROOT / "bot" / "adapters").rglob("*.py"))
             for name in imports_of(path)
             if name.startswith(("handlers", "storage"))
             or (name.startswith("bot.") and not name.startswith(allowed_bot))]
    assert found == []


def test_no_adapter_module_is_over_500_lines() -> None:
    long = [f"{p.relative_to(ROOT)}: {n}" for p in sorted((ROOT / "bot" / "adapters").rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500]
    assert long == []
