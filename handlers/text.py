"""Checks for free text a user gives us, with Dutch messages that say how to do it right.

Used for everything that is stored or searched. Markup is refused rather than silently
escaped, so what someone types is what others will read.
"""

from __future__ import annotations

import re
import unicodedata

from bot.core.errors import UserError
from bot.core.text import fold
from config.i18n import Catalog

__all__ = ["MAX_TEXT", "clean", "fold", "has_control", "shorten"]  # fold lives in bot/core/text.py

MAX_TEXT = 2000
# Slack's control sequences: <!channel>, <@U123>, <#C123>, <!subteam^…>, <http://x|y>, <mailto:…>
MARKUP = re.compile(r"<\s*(?:[!@#]|https?:|mailto:|tel:)", re.IGNORECASE)
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


# the control characters (Unicode category Cc is exactly U+0000–001F and U+007F–009F) and the
# bidirectional overrides of BIDI; a line break and a tab are allowed in multi-line text
CONTROLS = {False: re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"),
            True: re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")}


def has_control(text: str, *, multiline: bool) -> bool:
    return CONTROLS[multiline].search(text) is not None


def clean(text: str, t: Catalog, *, what: str, max_length: int = MAX_TEXT, multiline: bool = False,
          required: bool = True) -> str:
    """The text stripped, or a UserError naming `what` and the rule that was broken."""
    text = unicodedata.normalize("NFC", text).strip()
    if required and not text:
        raise UserError(t("input.empty", what=what))
    if len(text) > max_length:
        raise UserError(t("input.too_long", what=what, max=max_length, length=len(text)))
    if has_control(text, multiline=multiline):
        raise UserError(t("input.control", what=what))
    if MARKUP.search(text):
        raise UserError(t("input.markup", what=what))
    if not multiline:
        text = " ".join(text.split())
    return text


def shorten(text: str, limit: int = 300) -> str:
    """At most `limit` characters, cut with "…" where it was longer."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"
