"""Finding a school, organisation or member by the name someone typed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from rapidfuzz import fuzz, process

from bot.core.errors import UserError
from config.i18n import Catalog
from handlers.text import fold


class Named(Protocol):
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=Named)


def pick(name: str, candidates: Sequence[N], t: Catalog) -> N:
    """The one candidate meant by `name`: exact (case and accents ignored), else one close match."""
    by_key: dict[str, list[N]] = {}
    for candidate in candidates:
        by_key.setdefault(fold(candidate.name), []).append(candidate)
    wanted = fold(" ".join(name.split()))
    exact = by_key.get(wanted, [])
    if len(exact) == 1:
        return exact[0]
    close = process.extract(wanted, list(by_key), scorer=fuzz.WRatio, score_cutoff=86, limit=6)
    found = exact or [c for key, _, _ in close for c in by_key[key]]
    if len(found) == 1:
        return found[0]
    if not found:
        raise UserError(t("names.unknown", name=name))
    raise UserError(t("names.ambiguous", name=name, options=", ".join(c.name for c in found[:5])))


def unknown_name(name: str, candidates: Sequence[N], t: Catalog, key: str) -> str | None:
    """`key`'s message naming what was not recognised, with the nearest known name when one is
    somewhat close ("Ik ken geen school "Baken". Bedoel je Baeken?"); None when `name` is known."""
    wanted = fold(" ".join(name.split()))
    keys = {fold(c.name): c.name for c in candidates}
    if wanted in keys:
        return None
    near = process.extractOne(wanted, list(keys), scorer=fuzz.WRatio, score_cutoff=60)
    suggestion = t("defects.did_you_mean", name=keys[near[0]]) if near else ""
    return t(key, name=name, suggestion=suggestion).strip()
