"""Dutch text analysis for the expertise index: fold case and accents, drop stop words, stem.

The stemmer is Snowball's Dutch Porter algorithm (the newer Snowball `dutch` strips the `ge-`
prefix and over-stems: "autisme" → "aut"). Compounds and typos are not handled here but at
query time, against the vocabulary of indexed terms (see search.py).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import snowballstemmer

from handlers.text import fold

TOPIC_WEIGHT = 3.0
DESCRIPTION_WEIGHT = 1.0
MAX_TERM = 100

STOPWORDS = frozenset("""
aan al alle als alles andere bij ben bent ook dan dat de der deze die dit doe doen door dus een en
er ervaring ga gaat geen had heb hebben heeft het hier hij hoe hun iemand iets ik in is ja je jij
jou jouw kan kun kunnen maar me meer met mij mijn na naar niet niets nog nu of om omdat onder ons
onze ook op over te tegen tot u uit van veel voor waar wanneer wat we wel welke wie wij wil zal ze
zich zij zijn zo zoals zou zouden
""".split())

WORD = re.compile(r"[a-z0-9]+")


@cache
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("dutch_porter")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_stemmer().stemWord(word))[:MAX_TERM]


def words(text: str) -> list[str]:
    """Folded words worth searching for: no stop words, no single letters."""
    return [w for w in WORD.findall(fold(text)) if len(w) > 1 and w not in STOPWORDS]


def terms(text: str) -> list[str]:
    return [stem(w) for w in words(text)]


def topic_key(topic: str) -> str:
    """How topics are compared: "Gedrag " and "gedrag" are one topic."""
    return " ".join(fold(topic).split())


def index_terms(topic: str, description: str) -> dict[str, float]:
    """The terms an entry is found by, each with the weight of the field it came from."""
    weights = {term: DESCRIPTION_WEIGHT for term in terms(description)}
    weights.update({term: TOPIC_WEIGHT for term in terms(topic)})
    return weights
