"""The search index in memory: the ranking of a query without the database, kept up to date by
the rows that changed.

A ranking sums, per holder, the weights of their entries' index rows for the query's terms (see
ExpertiseRepository.rank, which does the same in SQL and stays the reference). In the database
that aggregation costs 60–230 ms at 100,000 entries; here it is a few vectorised numpy steps
over the postings of the query's terms, which are loaded from the database the first time a term
is asked for and then kept.

Keeping them up to date: every change of an entry (storage.changes) gives the entry a new
generation. Its old rows stay in the arrays but no longer count (a row counts only while its
generation is the entry's current one); its new rows are read from the database and added to the
terms held. So a change costs one small query for the changed entries, never a reload.
A cached ranking remembers the entries it counted and the terms it asked for: a change keeps it
unless it touched one of those entries or added rows to one of those terms.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from storage.changes import Posting, postings_of_entries, postings_of_terms
from storage.repositories import Ranking, Repositories, query_rows

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
HolderKey = tuple[int | None, int | None]  # (member_id, organisation_id)
NONE = -1  # an organisation has no member id: before the members on a tie, as SQLite sorts NULL


@dataclass
class Postings:
    """A term's index rows: entry, its generation when loaded, holder slot, confirmation, weight."""

    entry: Ints
    generation: Ints
    holder: Ints
    confirmed: Floats
    weight: Floats

    @classmethod
    def of(cls, rows: Sequence[tuple[int, int, int, float, float]]) -> Postings:
        columns = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
        return cls(np.array(columns[0], np.int64), np.array(columns[1], np.int64), np.array(columns[2], np.int64),
                   np.array(columns[3], np.float64), np.array(columns[4], np.float64))

    def __add__(self, other: Postings) -> Postings:
        return Postings(*(np.concatenate((a, b)) for a, b in zip(self.columns(), other.columns(), strict=True)))

    def columns(self) -> tuple[Ints, Ints, Ints, Floats, Floats]:
        return self.entry, self.generation, self.holder, self.confirmed, self.weight

    def alive(self, generations: Ints) -> Postings:
        keep = generations[self.entry] == self.generation
        return self if keep.all() else Postings(*(column[keep] for column in self.columns()))


@dataclass(frozen=True)
class Ranked:
    """A query's ranking, best first, kept as arrays: only the page asked for becomes Python objects."""

    members: Ints  # NONE for an organisation
    organisations: Ints  # 0 for a member
    scores: Floats
    terms: frozenset[str]
    entries: Ints  # sorted: every entry that counted

    @property
    def total(self) -> int:
        return len(self.scores)

    @property
    def ranking(self) -> Ranking:
        return self.page(0, self.total)

    def page(self, offset: int, limit: int) -> Ranking:
        end = offset + limit
        return [(None if m == NONE else m, o or None, s) for m, o, s in zip(
            self.members[offset:end].tolist(), self.organisations[offset:end].tolist(),
            self.scores[offset:end].tolist(), strict=True)]

    def counted(self, entries: Ints) -> bool:
        """Whether any of these entries (sorted) counted in this ranking."""
        at = np.searchsorted(self.entries, entries)
        return bool((self.entries[np.minimum(at, len(self.entries) - 1)] == entries).any()) if len(self.entries) \
            else False


class SearchIndex:
    def __init__(self) -> None:
        self.terms: dict[str, Postings] = {}
        self.generations: Ints = np.zeros(1024, np.int64)  # by entry id
        self.slots: dict[HolderKey, int] = {}
        self.members: list[int] = []  # per holder slot, NONE for an organisation
        self.organisations: list[int] = []  # per holder slot, 0 for a member
        self._holders: tuple[Ints, Ints] = (np.zeros(0, np.int64), np.zeros(0, np.int64))

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]

    def _slot(self, member_id: int | None, organisation_id: int | None) -> int:
        key = (member_id, organisation_id)
        slot = self.slots.get(key)
        if slot is None:
            slot = self.slots[key] = len(self.members)
            self.members.append(member_id if member_id is not None else NONE)
            self.organisations.append(organisation_id or 0)
        return slot

    def _generation(self, entry_id: int) -> int:
        if entry_id >= len(self.generations):
            grown = np.zeros(max(entry_id + 1, 2 * len(self.generations)), np.int64)
            grown[:len(self.generations)] = self.generations
            self.generations = grown
        return int(self.generations[entry_id])

    def _rows(self, postings: Iterable[Posting]) -> dict[str, list[tuple[int, int, int, float, float]]]:
        by_term: dict[str, list[tuple[int, int, int, float, float]]] = {}
        for p in postings:
            by_term.setdefault(p.term, []).append((p.expertise_id, self._generation(p.expertise_id),
                                                   self._slot(p.member_id, p.organisation_id),
                                                   p.confirmed_at.timestamp(), p.weight))
        return by_term

    async def load(self, repos: Repositories, terms: Iterable[str]) -> None:
        """The postings of the terms not held yet, in one query."""
        missing = sorted(set(terms) - self.terms.keys())
        if not missing:
            return
        by_term = self._rows(await postings_of_terms(repos.session, missing))
        for term in missing:
            self.terms[term] = Postings.of(by_term.get(term, []))

    async def update(self, repos: Repositories, entry_ids: Collection[int]) -> list[Posting]:
        """The changed entries' rows, read again: old rows stop counting, new ones join the terms held.
        Returns the new rows (their terms may be new to the vocabulary)."""
        if not entry_ids:
            return []
        for entry_id in entry_ids:
            self._generation(entry_id)
            self.generations[entry_id] += 1
        fresh = await postings_of_entries(repos.session, entry_ids)
        for term, rows in self._rows(fresh).items():
            if term in self.terms:
                self.terms[term] = self.terms[term].alive(self.generations) + Postings.of(rows)
        return fresh

    def rank(self, weights: Mapping[str, float], groups: Sequence[Collection[str]]) -> Ranked:
        """As ExpertiseRepository.rank: holders by summed weight, then latest confirmation; with groups,
        only the holders matching the most of them. Every term must have been loaded."""
        parts = []
        for term, weight, number in query_rows(weights, groups):
            postings = self.terms[term].alive(self.generations)
            self.terms[term] = postings  # dead rows are dropped the first time they are met
            if len(postings.entry):
                parts.append((postings, weight, -1 if number is None else number))
        terms = frozenset(weights)
        if not parts:
            empty = np.zeros(0, np.int64)
            return Ranked(empty, empty, np.zeros(0, np.float64), terms, empty)
        holder = np.concatenate([p.holder for p, _, _ in parts])
        entries = np.unique(np.concatenate([p.entry for p, _, _ in parts]))
        size = len(self.members)
        score = np.bincount(holder, weights=np.concatenate([p.weight * w for p, w, _ in parts]), minlength=size)
        present = np.bincount(holder, minlength=size) > 0
        confirmed = np.full(size, -np.inf)
        np.maximum.at(confirmed, holder, np.concatenate([p.confirmed for p, _, _ in parts]))
        if groups:
            numbers = np.concatenate([np.full(len(p.entry), g, np.int64) for p, _, g in parts])
            counted = numbers >= 0
            pairs = np.unique(holder[counted] * (len(groups) + 1) + numbers[counted])
            matched = np.bincount(pairs // (len(groups) + 1), minlength=size)
            present &= matched == matched[present].max()
        found = np.nonzero(present)[0]
        if len(self._holders[0]) != size:
            self._holders = (np.array(self.members, np.int64), np.array(self.organisations, np.int64))
        members, organisations = self._holders[0][found], self._holders[1][found]
        scores: Floats = np.round(score[found], 9)  # summed in another order than SQL: ties stay ties
        order = np.lexsort((organisations, members, -confirmed[found], -scores))
        return Ranked(members[order], organisations[order], scores[order], terms, entries)
