"""No message a member reads names an internal identifier such as `in_stemming` (issue 13): statuses and
choices are shown in Dutch words."""

from __future__ import annotations

import re

import pytest

from config.i18n import load_messages

COMMANDS = {"pg_dump", "pg_restore", "open_onderwijsdata"}  # names of programs and files, typed as they are


@pytest.mark.parametrize("language", ["nl", "en"])
def test_no_message_shows_an_internal_snake_case_name(language: str) -> None:
    found = {key: words for key, text in load_messages(language).items()
             if (words := set(re.findall(r"\b[a-z]+_[a-z_]+\b", re.sub(r"\{[^}]*\}", "", text))) - COMMANDS)}
    assert found == {}
