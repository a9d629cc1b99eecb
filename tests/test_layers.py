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
