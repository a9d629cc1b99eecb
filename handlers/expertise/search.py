"""From what someone typed to weighted index terms, the Dutch way.

Each query word becomes a group of weighted terms. A word matches, in falling weight: the same
stem; a synonym from the cooperation's list; a compound that starts with it ("gedrag" →
"gedragsspecialist") or a derived form ("motoriek" ~ "motorisch"); a registered topic it is a
compound of ("gedragsproblemen" → "gedrag" and so "gedragsspecialist", "schoolverzuim" →
"verzuim"); a compound ending in it ("verzuim" → "ziekteverzuim"); and, when the word finds
nothing itself, a typo of a known term ("gedarg"), which is then expanded like the word it meant.

Compounds are only split on parts that are a topic someone registered: "gedrag" is one, "school"
and "training" are not, so "voetbaltraining" finds no trainers and "groeiklas" no "groei".
Synonyms are phrases: "passend onderwijs" is matched as the phrase the index holds for topics of
several words, never as every mention of "onderwijs".

Expansion runs against the vocabulary of indexed terms, kept in memory and grown by the terms
of changed entries (reloaded only when the database holds terms no change brought); the ranking
is done in memory (handlers/expertise/index.py, as ExpertiseRepository.rank does it in SQL), and
for a query of several words keeps the holders that match the most of its words.

What a change costs: rankings and pages are cached per query; a change (storage.changes) drops
only the rankings it touched (an entry they counted, a term they asked for) and the pages that
show a changed member or organisation. A member's new name leaves every ranking standing.
"""

from __future__ import annotations

import asyncio
import bisect
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.core.together import Together
from handlers.expertise.analysis import COMMON, phrase, sound, stem, words
from handlers.expertise.index import HolderKey, Ranked, SearchIndex
from handlers.text import fold
from storage.changes import ALL, EXPERTISE, MEMBER, ORGANISATION, Change, changes_since, pending
from storage.records import Holder, HolderHit, MemberRecord, SearchPage, TopicCount
from storage.repositories import Repositories

EXACT, SYNONYM, PREFIX, DERIVED, PART, SUFFIX, TYPO = 1.0, 0.9, 0.8, 0.8, 0.7, 0.6, 0.6
MIN_COMPOUND = 4  # shorter parts ("les", "kind") would match too much
MIN_SUFFIX = 5
MIN_TYPO = 5  # a typo in a shorter word is another word ("pest" / "test")
MAX_TERMS = 120
CACHED_QUERIES = 2048
CACHED_RANKINGS = 64  # whole rankings: about 1 MB each for a broad query at 100k entries

PageKey = tuple[tuple[int, tuple[str, ...]], int, int]  # ((vocabulary size, query words), offset, limit)
K = TypeVar("K")
V = TypeVar("V")
# Dutch derivations the stemmer leaves apart: motoriek ~ motorisch, autisme ~ autistisch.
DERIVATIONS = (("iek", "isch"), ("isch", "iek"), ("ism", "istisch"), ("istisch", "ism"), ("ie", "isch"),
               ("exie", "ectisch"), ("ectisch", "exie"))

Group = dict[str, float]


def load_synonyms(path: Path) -> list[frozenset[str]]:
    """Groups of phrases that mean the same for searching, from the cooperation's TOML file.

    Each phrase is its stems joined by a space: "passend onderwijs" stays one phrase, matched as
    a whole, so that it does not make "onderwijs" a synonym of "inclusie".
    """
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    groups = []
    for group in data.get("groepen", []):
        phrases = frozenset(p for p in (phrase([stem(w) for w in words(str(raw))]) for raw in group) if p)
        if len(phrases) > 1:
            groups.append(phrases)
    return groups


@dataclass
class Vocabulary:
    terms: list[str] = field(default_factory=list)  # sorted
    known: frozenset[str] = frozenset()
    size: int = -1
    # one-word topics, by stem and by folded word, → the stem: what a compound may be split on
    topics: dict[str, str] = field(default_factory=dict)
    backwards: list[str] = field(default_factory=list)  # single-word terms reversed, sorted
    by_length: dict[int, list[str]] = field(default_factory=dict)
    by_sound: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, terms: list[str], size: int, topics: Iterable[str] = ()) -> Vocabulary:
        single = sorted(t for t in terms if " " not in t)
        by_length: dict[int, list[str]] = {}
        by_sound: dict[str, list[str]] = {}
        for term in single:
            by_length.setdefault(len(term), []).append(term)
            by_sound.setdefault(sound(term), []).append(term)
        parts: dict[str, str] = {}
        for topic in set(topics):
            found = words(topic)
            if len(found) == 1 and len(found[0]) >= MIN_COMPOUND:
                parts[found[0]] = parts[stem(found[0])] = stem(found[0])
        return cls(terms=single, known=frozenset(terms), size=size, topics=parts,
                   backwards=sorted(t[::-1] for t in single), by_length=by_length, by_sound=by_sound)

    def add(self, terms: Iterable[str], topics: Iterable[str]) -> int:
        """Terms and topics of changed entries; returns how many terms were new."""
        new = sorted(set(terms) - self.known)
        for term in new:
            if " " not in term:
                bisect.insort(self.terms, term)
                bisect.insort(self.backwards, term[::-1])
                self.by_length.setdefault(len(term), []).append(term)
                self.by_sound.setdefault(sound(term), []).append(term)
        for topic in set(topics):
            found = words(topic)
            if len(found) == 1 and len(found[0]) >= MIN_COMPOUND:
                self.topics[found[0]] = self.topics[stem(found[0])] = stem(found[0])
        if new:
            self.known = self.known | frozenset(new)
            self.size += len(new)
        return len(new)

    def starting_with(self, prefix: str) -> Iterator[str]:
        i = bisect.bisect_left(self.terms, prefix)
        while i < len(self.terms) and self.terms[i].startswith(prefix):
            yield self.terms[i]
            i += 1

    def ending_with(self, suffix: str) -> Iterator[str]:
        backwards = suffix[::-1]
        i = bisect.bisect_left(self.backwards, backwards)
        while i < len(self.backwards) and self.backwards[i].startswith(backwards):
            yield self.backwards[i][::-1]
            i += 1

    def typos(self, term: str) -> list[str]:
        """Known terms that sound the same, or one edit away (two for longer words; a swap of two
        letters counts as one)."""
        cutoff = 1 if len(term) < 8 else 2
        candidates = [t for n in range(len(term) - cutoff, len(term) + cutoff + 1) for t in self.by_length.get(n, ())]
        found = process.extract(term, candidates, scorer=OSA.distance, score_cutoff=cutoff, limit=3)
        return list(dict.fromkeys([*self.by_sound.get(sound(term), ())[:3], *(fixed for fixed, _, _ in found)]))

    def topic_typos(self, word: str) -> list[str]:
        """Registered topics one edit from a word that is no topic itself. Years of free text hold
        typos too, so "gedarg" may be a known term and still mean "gedrag"."""
        if word in self.topics or stem(word) in self.topics:
            return []
        found = process.extract(word, list(self.topics), scorer=OSA.distance, score_cutoff=1, limit=3)
        return list(dict.fromkeys(self.topics[form] for form, _, _ in found))

    def parts(self, word: str) -> set[str]:
        """The registered topics a compound is made of: "gedragsspecialist" → {"gedrag"}."""
        found = set()
        for cut in range(MIN_COMPOUND, len(word) - 2):
            for part in (word[:cut], word[len(word) - cut:]):
                if part in self.topics:
                    found.add(self.topics[part])
        return found


class ExpertiseSearch:
    def __init__(self, synonyms: list[frozenset[str]]) -> None:
        self.synonyms = synonyms
        self.vocabulary = Vocabulary()
        self.alternatives: dict[str, set[str]] = {}
        for group in synonyms:
            for p in group:
                self.alternatives.setdefault(p, set()).update(group - {p})
        self.phrase_lengths = sorted({p.count(" ") + 1 for p in self.alternatives if " " in p}, reverse=True)
        self._cache: dict[tuple[str, ...], list[Group]] = {}
        self.index = SearchIndex()
        self._rankings: dict[tuple[int, tuple[str, ...]], Ranked] = {}
        self._pages: dict[PageKey, SearchPage] = {}
        # a page being made, per version: who asks for it meanwhile waits for that one (50 askers after a
        # change make it once, not 50 times side by side on SQLite's one connection thread)
        self._making: Together[tuple[int, PageKey], SearchPage] = Together()
        self._catching = asyncio.Lock()
        self._details: dict[tuple[int, tuple[str, ...]], dict[HolderKey, HolderHit]] = {}
        self._cached_version = -1
        self.expertise_version = -1

    async def refresh(self, repos: Repositories) -> Vocabulary:
        """The vocabulary, reloaded only when the database has more terms than we hold."""
        _, size = await repos.expertise.search_state()  # read once per transaction
        if size != self.vocabulary.size:
            terms = await repos.expertise.vocabulary()
            topics = [t.topic_key for t in await repos.expertise.topic_counts()]
            self.vocabulary = Vocabulary.build(terms, size, topics)
            self._cache = {}
        return self.vocabulary

    def expand(self, query: str, vocabulary: Vocabulary) -> dict[str, float]:
        """Every term the query matches, with its weight (the strongest way it was reached)."""
        weights: dict[str, float] = {}
        for group in self.groups(query, vocabulary):
            for term, weight in group.items():
                weights[term] = max(weight, weights.get(term, 0.0))
        return weights

    def groups(self, query: str, vocabulary: Vocabulary) -> list[Group]:
        """Per query word, the terms it matches; words that match nothing are left out."""
        return [g for g in self._per_word(query, vocabulary) if g]

    def _per_word(self, query: str, vocabulary: Vocabulary) -> list[Group]:
        typed = tuple(words(query))
        if vocabulary is self.vocabulary and typed in self._cache:
            return self._cache[typed]
        groups = [self._word(word, vocabulary) for word in typed]
        self._phrases(typed, groups, vocabulary)
        found = [dict(sorted(g.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[:MAX_TERMS]) for g in groups]
        if vocabulary is self.vocabulary:
            if len(self._cache) >= CACHED_QUERIES:
                self._cache.clear()
            self._cache[typed] = found
        return found

    def _word(self, word: str, vocabulary: Vocabulary) -> Group:
        group: Group = {}

        def give(term: str, weight: float) -> None:
            if term in vocabulary.known and weight > group.get(term, 0.0):
                group[term] = weight

        def family(term: str, weight: float) -> None:
            if len(term) >= MIN_COMPOUND and " " not in term:
                for longer in vocabulary.starting_with(term):
                    give(longer, weight)

        own = stem(word)
        bases = {own: EXACT}
        for ending, other in DERIVATIONS:  # the same word, so expanded like it: dyslectisch → dyslexie
            derived = own[:-len(ending)] + other
            if own.endswith(ending) and (derived in vocabulary.known or derived in self.alternatives):
                bases[derived] = DERIVED
        if len(own) >= MIN_TYPO and len(bases) == 1:
            if own not in vocabulary.known and not any(vocabulary.starting_with(word)):
                fixes = vocabulary.typos(own)
            else:
                fixes = vocabulary.topic_typos(word)
            bases.update((fixed, TYPO) for fixed in fixes if fixed not in bases)
        for base, weight in bases.items():
            give(base, weight)
            family(base, weight * PREFIX)
            if base == own:
                family(word, weight * PREFIX)  # the stem may differ: "weerbaarheid" → "weerbar"
            if len(base) >= MIN_SUFFIX:
                for longer in vocabulary.ending_with(base):
                    give(longer, weight * SUFFIX)
            for part in vocabulary.parts(word if base == own else base):
                if part != base:
                    give(part, weight * PART)
                    family(part, weight * PART * PREFIX)
                    for longer in vocabulary.ending_with(part) if len(part) >= MIN_SUFFIX else ():
                        give(longer, weight * PART * SUFFIX)
                    for alternative in self.alternatives.get(part, ()):
                        give(alternative, weight * PART * SYNONYM)
            for alternative in self.alternatives.get(base, ()):
                give(alternative, weight * SYNONYM)
                family(alternative, weight * SYNONYM * PREFIX)
        return group

    def _phrases(self, typed: tuple[str, ...], groups: list[Group], vocabulary: Vocabulary) -> None:
        """Words in a row: the phrase itself (a topic of several words) and its synonyms."""
        stems = [stem(w) for w in typed]
        for i in range(len(stems) - 1):
            together = phrase(stems[i:i + 2])
            if together in vocabulary.known:
                for group in groups[i:i + 2]:
                    group[together] = EXACT
        for length in self.phrase_lengths:
            for i in range(len(stems) - length + 1):
                for alternative in self.alternatives.get(phrase(stems[i:i + length]), ()):
                    terms = [alternative] if alternative in vocabulary.known else []
                    if " " not in alternative and len(alternative) >= MIN_COMPOUND:
                        terms += vocabulary.starting_with(alternative)
                    for group in groups[i:i + length]:
                        for term in terms:
                            weight = SYNONYM if term == alternative else SYNONYM * PREFIX
                            group[term] = max(weight, group.get(term, 0.0))

    def required(self, query: str, vocabulary: Vocabulary) -> list[set[str]]:
        """For a query of several words, the terms of each word a holder should match.

        Common words ("leerlingen", "groep") are left out when there is another word; they still
        weigh in the ranking. A single word needs no such list.
        """
        typed = words(query)
        if len(typed) < 2:
            return []
        in_phrase = self._in_phrases([stem(w) for w in typed])
        per_word = self._per_word(query, vocabulary)
        found = [set(g) for i, (word, g) in enumerate(zip(typed, per_word, strict=True))
                 if g and (word not in COMMON or i in in_phrase)]
        return found or [set(g) for g in per_word if g]

    def _in_phrases(self, stems: list[str]) -> set[int]:
        """Positions of the query words that are part of a phrase of the synonym list."""
        covered: set[int] = set()
        for length in self.phrase_lengths:
            for i in range(len(stems) - length + 1):
                if phrase(stems[i:i + length]) in self.alternatives:
                    covered.update(range(i, i + length))
        return covered

    def forget(self, *, index: bool = False) -> None:
        """Drop cached rankings and pages (and with `index` the postings held too)."""
        self._rankings.clear()
        self._pages.clear()
        self._details.clear()
        if index:
            self.index.clear()

    async def catch_up(self, repos: Repositories, version: int) -> None:
        """Bring the caches from the version they hold to `version`, forgetting only what changed; one input
        at a time: who arrived meanwhile with the same version finds it done."""
        if version == self._cached_version:
            return
        async with self._catching:
            if version != self._cached_version:  # (lower after a restore: then everything is forgotten)
                await self._catch_up(repos, version)

    async def _catch_up(self, repos: Repositories, version: int) -> None:
        changes = await changes_since(repos.session, self._cached_version, version) \
            if self._cached_version >= 0 else None
        if changes is None or any(c.kind == ALL for c in changes):
            self.forget(index=True)
        else:
            await self._apply(repos, changes)
        if changes is None or any(c.kind in (ALL, EXPERTISE) for c in changes):
            self.expertise_version = version  # what depends on expertise alone holds since this version
        self._cached_version = version

    async def _apply(self, repos: Repositories, changes: list[Change]) -> None:
        entries = {c.ref for c in changes if c.kind == EXPERTISE}
        fresh = await self.index.update(repos, entries)
        if self.vocabulary.add((p.term for p in fresh), (p.topic_key for p in fresh)):
            self._cache.clear()  # a new term may be what a query expands to: every ranking may change
            self.forget()
            return
        if entries:  # (a change of members or organisations alone changes no ranking)
            changed = np.array(sorted(entries), np.int64)
            terms = {p.term for p in fresh}
            for key in [k for k, r in self._rankings.items() if not terms.isdisjoint(r.terms) or r.counted(changed)]:
                del self._rankings[key]
        members = {c.ref for c in changes if c.kind == MEMBER}
        organisations = {c.ref for c in changes if c.kind == ORGANISATION}
        holders = {(p.member_id, p.organisation_id) for p in fresh}
        for details in self._details.values():  # a holder's entries and name, as a page shows them
            for holder in [h for h, hit in details.items() if h in holders or _shows(hit.holder, members, organisations)
                           or any(e.id in entries for e in hit.entries)]:
                del details[holder]
        for page_key in [k for k, page in self._pages.items() if k[0] not in self._rankings
                         or any(_shows(hit.holder, members, organisations) for hit in page.hits)]:
            del self._pages[page_key]

    async def search(self, repos: Repositories, query: str, *, limit: int, offset: int = 0) -> SearchPage:
        """One page of results, from caches that hold for the search version read.

        The version (table search_state) goes up in the same transaction as every write that
        changes what a search shows, in any bot instance; reading it is the one round trip a
        repeated search costs, and reading what changed the one more after a change. The full
        ranking is kept too, so the next page of a query is one page's details away.

        A transaction that has itself changed expertise searches the database, uncached; one that
        changed members or organisations (a first contact makes a member) uses the rankings, and
        reads the holders it changed afresh, without keeping them.
        """
        own = pending(repos.session)
        if any(kind in (EXPERTISE, ALL) for kind, _ in own):
            vocabulary = await self.refresh(repos)
            weights, groups = self.expand(query, vocabulary), self.required(query, vocabulary)
            ranking = await repos.expertise.rank(weights, groups)
            return SearchPage(hits=await repos.expertise.hits(ranking[offset:offset + limit], weights, groups),
                              total=len(ranking))
        version, _ = await repos.expertise.search_state()
        await self.catch_up(repos, version)
        vocabulary = await self.refresh(repos)
        key = (vocabulary.size, tuple(words(query)))
        page_key = (key, offset, limit)
        if page_key in self._pages and not own:
            return self._pages[page_key]
        if own:
            return await self._make(repos, query, vocabulary, version, offset, limit, own)
        return await self._making.once((version, page_key),
                                       lambda: self._make(repos, query, vocabulary, version, offset, limit, own))

    async def _make(self, repos: Repositories, query: str, vocabulary: Vocabulary, version: int, offset: int,
                    limit: int, own: set[tuple[str, int]]) -> SearchPage:
        """The page from the ranking (made when missing) and the holders' details not kept yet; kept only
        while the caches still hold `version` (another input may have caught up with a change meanwhile)."""
        key = (vocabulary.size, tuple(words(query)))
        page_key = (key, offset, limit)
        weights, groups = self.expand(query, vocabulary), self.required(query, vocabulary)
        ranked = self._rankings.get(key)
        if ranked is None:
            await self.index.load(repos, weights)
            ranked = self.index.rank(weights, groups)
            if version == self._cached_version:
                _remember(self._rankings, key, ranked)
        shown = ranked.page(offset, limit)
        details = self._details.get(key)
        if details is None:
            details = {}
            if version == self._cached_version:
                _remember(self._details, key, details)
        members = {ref for kind, ref in own if kind == MEMBER}
        organisations = {ref for kind, ref in own if kind == ORGANISATION}
        missing = [row for row in shown if row[:2] not in details  # after a change, only the holders it touched
                   or _shows(details[row[:2]].holder, members, organisations)]
        uncommitted: dict[HolderKey, HolderHit] = {}
        fetched = await repos.expertise.hits(missing, weights, groups)
        current = version == self._cached_version
        for hit in fetched:
            shows_own = _shows(hit.holder, members, organisations)
            (uncommitted if shows_own or not current else details)[_key(hit.holder)] = hit
        page = SearchPage(hits=tuple(uncommitted.get(row[:2]) or details[row[:2]] for row in shown
                                     if row[:2] in uncommitted or row[:2] in details), total=ranked.total)
        if not own and version == self._cached_version:
            _remember(self._pages, page_key, page)
        return page

    @staticmethod
    def nearest_topics(query: str, topics: list[TopicCount], limit: int = 3) -> list[TopicCount]:
        """Topics that look like the query, for a search that found nothing."""
        by_key = {t.topic_key: t for t in topics}
        found = process.extract(fold(query), list(by_key), scorer=fuzz.WRatio, score_cutoff=60, limit=limit)
        return [by_key[key] for key, _, _ in found]


def _key(holder: Holder) -> HolderKey:
    return (holder.id, None) if isinstance(holder, MemberRecord) else (None, holder.id)


def _shows(holder: object, members: set[int], organisations: set[int]) -> bool:
    """Whether a listed holder shows a changed member or organisation (a member shows their school)."""
    if isinstance(holder, MemberRecord):
        return holder.id in members or (holder.organisation is not None and holder.organisation.id in organisations)
    return getattr(holder, "id", None) in organisations


def _remember(cache: dict[K, V], key: K, value: V) -> None:
    """Keep at most CACHED_RANKINGS entries, dropping the oldest."""
    if len(cache) >= CACHED_RANKINGS:
        cache.pop(next(iter(cache)))
    cache[key] = value
