"""The message catalogues: English keeps step with Dutch, and the code asks only for what exists.

A key missing from a catalogue is a KeyError in front of a user, so these fail the build
instead: nl and en must have the same keys with the same {placeholders}, and every key the code
names literally (t("…"), t.plural("…"), self.t("…"), bot.catalog("…"), or the fixed start of an
f-string such as f"roles.{role}") must be in both.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from bot.app import build
from bot.core.clock import ManualClock
from config.i18n import Catalog, load_messages, placeholders
from tests.conftest import make_settings, started_bot
from tests.support import actor, run, text_of

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("bot", "handlers")
LANGUAGES = ("nl", "en")
# a call of the catalogue with a string literal first: t("a.b"), ctx.t.plural("a.b", n), catalog(f"a.{x}")
CALL = re.compile(r"""\b(?:t|catalog)(?P<plural>\.plural)?\(\s*(?P<f>[fF]?)(?P<q>["'])(?P<key>[^"'\n]+)(?P=q)""")


@cache
def messages(language: str) -> dict[str, str]:
    return load_messages(language)


def used_keys() -> tuple[set[str], set[str]]:
    """Keys named literally in the code, and the fixed starts of keys built with f-strings."""
    keys: set[str] = set()
    prefixes: set[str] = set()
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for match in CALL.finditer(path.read_text(encoding="utf-8")):
                key = match["key"]
                if match["f"] and "{" in key:
                    prefixes.add(key.split("{", 1)[0])
                elif match["plural"]:
                    keys |= {f"{key}.one", f"{key}.other"}
                else:
                    keys.add(key)
    return keys, prefixes


@pytest.mark.parametrize(("language", "other"), [("nl", "en"), ("en", "nl")])
def test_every_key_exists_in_the_other_language(language: str, other: str) -> None:
    missing = sorted(messages(language).keys() - messages(other).keys())
    assert not missing, f"in {language}.toml but not in {other}.toml: {missing}"


def test_both_languages_fill_in_the_same_placeholders() -> None:
    nl, en = messages("nl"), messages("en")
    different = {key: (sorted(placeholders(nl[key])), sorted(placeholders(en[key])))
                 for key in nl.keys() & en.keys() if placeholders(nl[key]) != placeholders(en[key])}
    assert not different, f"placeholders differ (nl, en): {different}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_can_be_filled_in(language: str) -> None:
    """A stray brace or an unnamed {} would break the message the first time it is shown."""
    catalog = Catalog(language)
    for key, template in messages(language).items():
        values = {name: "x" for name in placeholders(template)}
        assert catalog(key, **values), key


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_the_code_asks_for_exists(language: str) -> None:
    keys, prefixes = used_keys()
    assert {"expertise.more", "expertise.people.one", "errors.unexpected", "input.markup"} <= keys, (
        "the scan of the sources finds no keys; has the way messages are looked up changed?")
    assert {"roles.", "help."} <= prefixes
    known = messages(language)
    absent = sorted(keys - known.keys())
    assert not absent, f"used in code, missing in {language}.toml: {absent}"
    unmatched = sorted(p for p in prefixes if not any(k.startswith(p) for k in known))
    assert not unmatched, f"f-string keys with no message in {language}.toml starting with: {unmatched}"


def test_every_command_has_help_in_both_languages() -> None:
    """The dispatcher answers `help` for any command with `help.<command>`."""
    commands = build(make_settings("sqlite+aiosqlite://")).registry.commands
    assert "expertise" in commands and "netwerkbot" in commands
    for language in LANGUAGES:
        absent = sorted(f"help.{name}" for name in commands if f"help.{name}" not in messages(language))
        assert not absent, f"no help in {language}.toml for: {absent}"


def test_the_english_catalogue_speaks_english() -> None:
    en = Catalog("en")
    assert en("errors.unknown_command", prefix="/", command="pitsj") == (
        "I don't know that command: /pitsj. Type /netwerkbot to see everything I can do.")
    assert en.plural("expertise.people", 1) == "1 person"
    assert en.plural("expertise.people", 3) == "3 people"
    same = [key for key, text in messages("en").items() if text == messages("nl")[key] and len(text) > 20]
    assert not same, f"left in Dutch: {same}"


async def test_a_bot_set_to_english_answers_in_english(sqlite_url: str, clock: ManualClock) -> None:
    async with started_bot(sqlite_url, clock, language="en") as bot:
        assert text_of(await run(bot, "/expertise toevoegen gedrag", actor("U1", name="Ingrid"))) == (
            "Added: gedrag.\n[1] Add a description")
        found = text_of(await run(bot, "/expertise gedrag", actor("U2")))
        assert "1 found · 1–1 shown · best match first" in found
        assert "gedrag · confirmed November 24, 2026" in found
        refused = text_of(await run(bot, "/expertise toevoegen <!channel>", actor("U2")))
        assert refused.startswith("! Your command contains Slack markup such as <!channel>")
