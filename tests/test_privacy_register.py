"""PRIVACY.md cannot drift from the schema: every table and column of the models is in the register, with
a kind, and every table with its purpose, legal ground, who sees it, retention and what forgetting does;
nothing is in it that no longer exists; the retention settings it names are the bot's settings.

The register is read from the Markdown itself (a `### \\`table\\`` heading, a column table, five bullets),
so that what the privacy officer reads is what is checked. It reads every model (SQLAlchemy metadata), also
the tables and columns other features add later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from config.settings import Settings
from storage.models import Base

REGISTER = Path(__file__).resolve().parent.parent / "PRIVACY.md"
KINDS = {"persoonsgegeven", "verwijzing", "vrije tekst", "platform", "technisch", "geheim"}
FIELDS = ("Doel", "Grondslag", "Wie ziet het", "Bewaartermijn", "Bij vergeten")
HEADING = re.compile(r"^### `(?P<table>[a-z_0-9]+)`", re.MULTILINE)
COLUMN = re.compile(r"^\| `(?P<column>[a-z_0-9]+)` \| (?P<what>[^|]+?) \| (?P<kind>[^|]+?) \|$", re.MULTILINE)
BULLET = re.compile(r"^- \*\*(?P<field>[^*]+):\*\* (?P<text>.+)$", re.MULTILINE)
SETTING = re.compile(r"`(NETWERKBOT_[A-Z_]+)`")


@dataclass
class Entry:
    columns: dict[str, tuple[str, str]] = field(default_factory=dict)  # column → (what, kind)
    fields: dict[str, str] = field(default_factory=dict)


def register(text: str) -> dict[str, Entry]:
    """Per `### \\`table\\`` section: its column rows and its bullets."""
    entries: dict[str, Entry] = {}
    headings = list(HEADING.finditer(text))
    for heading, following in zip(headings, [*headings[1:], None], strict=True):
        section = text[heading.end():following.start() if following else len(text)]
        entry = entries.setdefault(heading["table"], Entry())
        entry.columns = {m["column"]: (m["what"].strip(), m["kind"].strip()) for m in COLUMN.finditer(section)}
        entry.fields = {m["field"]: m["text"].strip() for m in BULLET.finditer(section)}
    return entries


def schema() -> dict[str, list[str]]:
    return {table.name: [c.name for c in table.columns] for table in Base.metadata.sorted_tables}


def test_every_table_and_column_of_the_models_is_in_the_register_and_nothing_else() -> None:
    entries = register(REGISTER.read_text(encoding="utf-8"))
    tables = schema()
    assert sorted(tables.keys() - entries.keys()) == [], "tables missing from PRIVACY.md"
    assert sorted(entries.keys() - tables.keys()) == [], "PRIVACY.md describes tables that no longer exist"
    for name, columns in tables.items():
        described = entries[name].columns
        missing = [c for c in columns if c not in described]
        assert missing == [], f"PRIVACY.md, table {name}: columns not described: {missing}"
        stale = sorted(described.keys() - set(columns))
        assert stale == [], f"PRIVACY.md, table {name}: columns that no longer exist: {stale}"


def test_every_column_has_a_kind_and_every_table_all_five_answers() -> None:
    for name, entry in register(REGISTER.read_text(encoding="utf-8")).items():
        for column, (what, kind) in entry.columns.items():
            assert kind in KINDS, f"{name}.{column}: kind {kind!r} is none of {sorted(KINDS)}"
            assert what, f"{name}.{column}: say what is in it"
        for answer in FIELDS:
            assert len(entry.fields.get(answer, "")) > 3, f"PRIVACY.md, table {name}: no **{answer}:**"


def test_a_column_that_points_to_a_member_is_never_called_technical() -> None:
    """A foreign key to members is personal data by reference: the register must say so."""
    entries = register(REGISTER.read_text(encoding="utf-8"))
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "members" for fk in column.foreign_keys):
                kind = entries[table.name].columns[column.name][1]
                assert kind in {"verwijzing", "persoonsgegeven"}, f"{table.name}.{column.name} is {kind}"


def test_the_retention_settings_it_names_exist_and_every_retention_setting_is_named() -> None:
    text = REGISTER.read_text(encoding="utf-8")
    named = set(SETTING.findall(text))
    settings = {f"NETWERKBOT_{name.upper()}" for name in Settings.model_fields}
    assert sorted(named - settings) == [], "PRIVACY.md names settings that do not exist"
    retention = {s for s in settings if s.startswith(("NETWERKBOT_RETAIN_", "NETWERKBOT_INACTIVE_",
                                                      "NETWERKBOT_RETENTION_"))}
    assert retention and sorted(retention - named) == [], "retention settings PRIVACY.md does not explain"


def test_the_register_reader_notices_a_new_column(tmp_path: Path) -> None:
    """The check itself: a register without one column's row is caught."""
    text = REGISTER.read_text(encoding="utf-8").replace("| `last_seen_at` |", "| last_seen_at |")
    assert "last_seen_at" not in register(text)["members"].columns
