"""Reading the number of a thing (a vote, a pitch, an idea, an agenda point, a button's choice).

One place for it, because every way of getting it wrong crashed a command: `str.isdigit` calls "²"
a digit and `int` then refuses it, and a number beyond the database's integer does not even fit
in the query (OverflowError on SQLite, "out of range for type integer" on PostgreSQL). Used by the
handlers and by the adapters (numbered buttons, `!stem`).
"""

from __future__ import annotations

import re

# The largest id a row can have on both databases (PostgreSQL `integer`; SQLite stops at 2**63 - 1).
MAX_ID = 2**31 - 1
DIGITS = re.compile(r"[0-9]+")


def number_of(text: str) -> int | None:
    """The number someone typed to name a pitch, a vote, an idea or an agenda point: "3" or "#3".

    Only the digits 0-9: "²" or "٣" are no number here (`str.isdigit` says they are, `int` refuses
    "²"). Any size: whether a thing has that number is for `possible_id` and the database to say.
    """
    stripped = text.strip().removeprefix("#").strip()
    return int(stripped) if DIGITS.fullmatch(stripped) and len(stripped) <= 100 else None


def possible_id(number: int | None) -> bool:
    """Whether a row can have this number: 1 up to MAX_ID. Anything beyond would not even fit in the
    query (OverflowError on SQLite, "out of range" on PostgreSQL), so it is simply not there."""
    return number is not None and 0 < number <= MAX_ID


def id_of(text: str) -> int | None:
    """The id in a button's value or a form's state ("12"): None for anything a row cannot have."""
    number = number_of(text)
    return number if possible_id(number) else None
