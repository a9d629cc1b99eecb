"""Euro amounts as Dutch people write them: "€ 1.500", "1500,50", "1.500,-", "€1500"."""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import NumberFormatError, format_currency, parse_decimal

# twenty million euros: anything above is a typing error, and it still fits the database's integer (2**31 - 1
# cents: more failed on PostgreSQL with "out of range for type integer")
MAX_CENTS = 20_000_000_00
CURRENCY = re.compile(r"^\s*(?:€|eur(?:o)?\b)?\s*(.*?)\s*(?:€|eur(?:o)?)?\s*$", re.IGNORECASE)


def parse_euros(text: str) -> int | None:
    """The amount in cents, or None when it is not an amount (negative, more than two decimals, "1.50")."""
    match = CURRENCY.match(text)
    number = (match.group(1) if match else text).replace(" ", "").replace("\u00a0", "")
    number = re.sub(r",-{1,2}$|\.-{1,2}$", "", number)  # "1.500,-" is 1500
    if not number or not re.fullmatch(r"[0-9.,]+", number):
        return None
    try:
        value = parse_decimal(number, locale="nl", strict=True)
    except NumberFormatError:
        return None
    cents = value * 100
    if cents != cents.to_integral_value() or not 0 <= cents <= MAX_CENTS:
        return None
    return int(cents)


def euros(cents: int, language: str = "nl") -> str:
    """"€ 1.500,00" (nl) or "€1,500.00" (en)."""
    return format_currency(Decimal(cents) / 100, "EUR", locale=language)
