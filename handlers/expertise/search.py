"""From what someone typed to weighted index terms, the Dutch way.

A query word matches, in falling weight: the same stem; a synonym from the cooperation's list;
a compound that starts with it ("gedrag" → "gedragsspecialist") or that it starts with
("gedragsproblemen" → "gedrag"); a compound sharing its head ("dyslexie" ~ "leesdyslexie");
and a typo of any of those ("gedarg"). Expansion runs against the vocabulary of indexed terms,
kept in memory and reloaded only when the database says it has grown; the ranking itself is
one indexed query in the database (ExpertiseRepository.search).
"""

from __future__ import annotations

import bisect
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

from handlers.expertise.analysis import stem, words
from handlers.text import fold
from storage.records import SearchPage, TopicCount
from storage.repositories import Repositories

EXACT, SYNONYM, PREFIX, HEAD, SUFFIX, TYPO = 1.0, 0.9, 0.8, 0.7, 0.6, 0.6
MIN_COMPOUND = 4  # shorter parts ("les", "kind") would match too much
MAX_TERMS = 120


def load_synonyms(path: Path) -> list[frozenset[str]]:
    """Groups of words that mean the same for searching, from the cooperation's TOML file."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    groups = []
    for group in data.get("groepen", []):
        stems = frozenset(stem(w) for phrase in group for w in words(str(phrase)))
        if len(stems) > 1:
            groups.append(stems)
    return groups


@dataclass
class Vocabulary:
    terms: list[str] = field(default_factory=list)  # sorted
    known: frozenset[str] = frozenset()
    size: int = -1

    def starting_with(self, prefix: str) -> Iterable[str]:
        i = bisect.bisect_left(self.terms, prefix)
        while i < len(self.terms) and self.terms[i].startswith(prefix):
            yield self.terms[i]
            i += 1


class ExpertiseSearch:
    def __init__(self, synonyms: list[frozenset[str]]) -> None:
        self.synonyms = synonyms
        self.vocabulary = Vocabulary()

    async def refresh(self, repos: Repositories) -> Vocabulary:
        size = await repos.expertise.vocabulary_size()
        if size != self.vocabulary.size:
            terms = await repos.expertise.vocabulary()
            self.vocabulary = Vocabulary(terms=terms, known=frozenset(terms), size=size)
        return self.vocabulary

    def expand(self, query: str, vocabulary: Vocabulary) -> dict[str, float]:
        weights: dict[str, float] = {}

        def give(term: str, weight: float) -> None:
            if weight > weights.get(term, 0.0):
                weights[term] = weight

        for word in words(query):
            base = {stem(word): EXACT}
            for group in self.synonyms:
                if stem(word) in group:
                    base.update({s: SYNONYM for s in group if s not in base})
            for term, weight in list(base.items()):
                if term not in vocabulary.known and len(term) >= 5:
                    cutoff = 1 if len(term) < 8 else 2
                    for fixed, _, _ in process.extract(term, vocabulary.terms, scorer=DamerauLevenshtein.distance,
                                                       score_cutoff=cutoff, limit=3):
                        base.setdefault(fixed, weight * TYPO)
            for term, weight in base.items():
                if term in vocabulary.known:
                    give(term, weight)
                self._compounds(term, weight, vocabulary, give)
        strongest = sorted(weights.items(), key=lambda kv: -kv[1])[:MAX_TERMS]
        return dict(strongest)

    @staticmethod
    def _compounds(term: str, weight: float, vocabulary: Vocabulary, give: object) -> None:
        assert callable(give)
        if len(term) < MIN_COMPOUND:
            return
        for longer in vocabulary.starting_with(term):
            if longer != term:
                give(longer, weight * PREFIX)
        for cut in range(MIN_COMPOUND, len(term) - 1):
            if term[:cut] in vocabulary.known:
                give(term[:cut], weight * HEAD)
        if len(term) >= 5:
            for other in vocabulary.terms:
                if other != term and len(other) >= 5 and (other.endswith(term) or term.endswith(other)):
                    give(other, weight * SUFFIX)

    async def search(self, repos: Repositories, query: str, *, limit: int, offset: int = 0) -> SearchPage:
        vocabulary = await self.refresh(repos)
        return await repos.expertise.search(self.expand(query, vocabulary), limit=limit, offset=offset)

    @staticmethod
    def nearest_topics(query: str, topics: list[TopicCount], limit: int = 3) -> list[TopicCount]:
        """Topics that look like the query, for a search that found nothing."""
        by_key = {t.topic_key: t for t in topics}
        found = process.extract(fold(query), list(by_key), scorer=fuzz.WRatio, score_cutoff=60, limit=limit)
        return [by_key[key] for key, _, _ in found]
