"""Text helpers both the handlers and the adapters need: comparing what people type, and showing user
text in a terminal without its control sequences."""

from __future__ import annotations

import re
import unicodedata

# terminal escape sequences (colours, cursor moves) and the C0/C1 control characters but newline and tab
CONTROL = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def fold(text: str) -> str:
    """Lower case without accents, for comparing: "Ideeën" → "ideeen"."""
    if text.isascii():  # nothing to decompose (an import folds every cell: this is most of them)
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def safe(text: str) -> str:
    """User text without terminal escape sequences or control characters."""
    return CONTROL.sub("", text)
