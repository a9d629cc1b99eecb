"""What each raise of the search version changed, so that caches forget only that.

Every write that changes what a search or a member shows names what it changed (an expertise
entry, a member, an organisation, coordinator rights, or everything) with `search_changed`. The names are collected
in the session and published once, right before the commit (storage.db): one raise of
`search_state.version` and a row in `search_changes` per thing changed, all in the same
transaction as the write. A bot process that holds caches at version v reads the rows of the
versions after v and forgets only what they name; when a version in between has no rows (pruned,
or raised by something that named nothing) it forgets everything, as before.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, Expertise, ExpertiseTerm, SearchState

PENDING = "search_changes"
SEARCH_STATE = "search_state"  # the (version, size) read in this transaction (storage.repositories)
# a way to read committed rows without the session (storage.committed: SQLite, PostgreSQL), and whether the session has
# begun reading (until then, whatever it reads next is no older than what the peek saw)
PEEK, BEGUN = "peek_search_state", "begun"
KEEP_VERSIONS = 1024  # rows of older versions are pruned
PRUNE_EVERY = 64

EXPERTISE, MEMBER, ORGANISATION, ALL = "expertise", "member", "organisation", "all"
COORDINATOR = "coordinator"  # who has coordinator rights changed (the dispatcher keeps rights per account)


class SearchChange(Base):
    """What one raise of `SearchState.version` changed, so that caches forget only that (storage/changes.py)."""
    __tablename__ = "search_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(12))  # expertise, member, organisation, coordinator, all (ref 0)
    ref: Mapped[int] = mapped_column(Integer)  # the id of the expertise entry, member or organisation


@dataclass(frozen=True)
class Change:
    version: int
    kind: str
    ref: int


@dataclass(frozen=True)
class Posting:
    """One index row with what the ranking needs of its entry."""

    term: str
    expertise_id: int
    weight: float
    member_id: int | None
    organisation_id: int | None
    confirmed_at: datetime
    topic_key: str = ""  # only for postings_of_entries


async def search_changed(session: AsyncSession, kind: str = ALL, ref: int = 0) -> None:
    """Note that this transaction changes what a search or a member shows (published at commit)."""
    session.info.setdefault(PENDING, set()).add((kind, ref))


def pending(session: AsyncSession) -> set[tuple[str, int]]:
    """What this transaction has changed of what a search shows (not yet committed)."""
    return set(session.info.get(PENDING, ()))


async def publish_changes(session: AsyncSession) -> None:
    """Raise the version once and record what changed; called right before the commit."""
    changes = session.info.pop(PENDING, None)
    if not changes:
        return
    session.info.pop(SEARCH_STATE, None)
    version = int((await session.execute(
        update(SearchState).values(version=SearchState.version + 1).returning(SearchState.version))).scalar_one())
    await session.execute(insert(SearchChange), [
        {"version": version, "kind": kind, "ref": ref} for kind, ref in sorted(changes)])
    if version % PRUNE_EVERY == 0:
        await session.execute(delete(SearchChange).where(SearchChange.version <= version - KEEP_VERSIONS))


NOTHING_AFTER = 2**31 - 1  # asked for the changes after this version: none (Integer column)


class RecentChanges:
    """The changes of the latest versions, read with the version itself (PostgreSQL: storage.committed), so the caches
    catching up after a change (members, searches) read nothing of their own: on PostgreSQL that was two round
    trips on the ack's path of the first input after each change (issue 19, item 1).

    It knows every change of the versions in (`_since`, `_upto`]. Each version read asks for the changes after
    `after()` and hands back what it found, which is every change of the versions in (after, version]: the two
    are joined when they meet, the newer one kept when they do not. A version lower than the one it asked after
    means the database went back (a restore): then nothing is known.
    """

    def __init__(self) -> None:
        self._since: int | None = None
        self._upto = 0
        self._changes: list[Change] = []

    def after(self) -> int:
        return self._upto if self._since is not None else NOTHING_AFTER

    def heard(self, after: int, version: int, rows: Iterable[tuple[Any, Any, Any]]) -> None:
        found = [Change(int(v), str(k), int(r)) for v, k, r in rows if v is not None]
        if after == NOTHING_AFTER:
            after, found = version, []
        if version < after:  # the database went back
            self._since, self._changes = None, []
        elif self._since is not None and self._since <= after <= self._upto:
            if version > self._upto:
                self._changes += [c for c in found if c.version > self._upto]
                self._upto = version
        elif self._since is None or version > self._upto:
            self._since, self._upto, self._changes = after, version, found
        if self._since is not None and self._since < self._upto - KEEP_VERSIONS:
            self._since = self._upto - KEEP_VERSIONS
            self._changes = [c for c in self._changes if c.version > self._since]

    def since(self, version: int, until: int) -> list[Change] | None:
        """Every change of the versions after `version` known here, when that is all of them up to `until`."""
        if self._since is None or not self._since <= version <= until <= self._upto:
            return None
        return [c for c in self._changes if c.version > version]


async def changes_since(session: AsyncSession, version: int, until: int) -> list[Change] | None:
    """The changes of versions after `version` (up to `until` at least), or None when one of those
    versions is not on record: then the caller must forget everything."""
    if until == version:
        return []
    if until < version:  # the database went back (a restore): nothing held can be trusted
        return None
    recent: RecentChanges | None = getattr(session.info.get(PEEK), "recent", None)
    known = recent.since(version, until) if recent is not None else None
    rows = [(c.version, c.kind, c.ref) for c in known] if known is not None else await peek(
        session, "SELECT version, kind, ref FROM search_changes WHERE version > ? ORDER BY version", version)
    if rows is None:
        rows = (await session.execute(
            select(SearchChange.version, SearchChange.kind, SearchChange.ref)
            .where(SearchChange.version > version).order_by(SearchChange.version))).all()
    found = [Change(int(v), str(k), int(r)) for v, k, r in rows]
    if {c.version for c in found if c.version <= until} != set(range(version + 1, until + 1)):
        return None
    return found


async def peek(session: AsyncSession, sql: str, *params: Any) -> Sequence[tuple[Any, ...]] | None:
    """Committed rows read beside the session (SQLite: on this thread; PostgreSQL: in autocommit), without its
    round trips; only while the session has read nothing itself, so that whatever it reads next is no older.
    None when that is not possible now: the caller reads through the session."""
    if PEEK not in session.info or session.info.get(BEGUN):
        return None
    state = session.info.get(SEARCH_STATE)  # the version the transaction holds (what was read ahead must match it)
    peeked = session.info[PEEK].rows(sql, *params, version=state[0] if state else None)
    rows: Sequence[tuple[Any, ...]] | None = await peeked if inspect.isawaitable(peeked) else peeked
    return rows


def _postings(where: Any, *extra: Any) -> Any:
    return (select(ExpertiseTerm.term, ExpertiseTerm.expertise_id, ExpertiseTerm.weight, Expertise.member_id,
                   Expertise.organisation_id, Expertise.confirmed_at, *extra)
            .join(Expertise, Expertise.id == ExpertiseTerm.expertise_id).where(where))


async def postings_of_terms(session: AsyncSession, terms: Sequence[str]) -> list[Posting]:
    """Every index row of these terms, by the `(term, expertise_id, weight)` index."""
    if not terms:
        return []
    rows = await session.execute(_postings(ExpertiseTerm.term.in_(list(terms))))
    return [Posting(*row) for row in rows]


async def postings_of_entries(session: AsyncSession, entry_ids: Iterable[int]) -> list[Posting]:
    """Every index row of these entries (none for an entry that is gone)."""
    ids = list(entry_ids)
    if not ids:
        return []
    rows = await session.execute(_postings(ExpertiseTerm.expertise_id.in_(ids), Expertise.topic_key))
    return [Posting(*row) for row in rows]
