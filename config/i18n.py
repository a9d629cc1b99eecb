"""The message catalogue: every sentence a user reads, one TOML file per language.

Dutch (`nl.toml`) is the reference; English (`en.toml`) must have the same keys with the same
placeholders (a test holds them to that). Keys are dotted paths, e.g. `expertise.help`.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).resolve().parent / "locales"


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{path}."))
        else:
            flat[path] = str(value)
    return flat


def load_messages(language: str) -> dict[str, str]:
    with (LOCALE_DIR / f"{language}.toml").open("rb") as fh:
        return _flatten(tomllib.load(fh))


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Catalog:
    """Looks up and fills in messages; a missing key is a programming error and raises."""

    def __init__(self, language: str = "nl") -> None:
        self.language = language
        self._messages = load_messages(language)

    def __call__(self, key: str, /, **values: object) -> str:
        return self._messages[key].format(**values)

    def plural(self, key: str, count: int, /, **values: object) -> str:
        """`key.one` for 1, else `key.other` (Dutch and English need no more)."""
        return self(f"{key}.{'one' if count == 1 else 'other'}", count=count, **values)

    def has(self, key: str) -> bool:
        return key in self._messages
