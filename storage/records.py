"""Plain objects the repositories hand to handlers (no ORM sessions leak out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OrganisationRecord:
    id: int
    name: str
    kind: str
    werkgebied: str


@dataclass(frozen=True)
class MemberRecord:
    id: int
    name: str
    title: str
    email: str | None
    role: str
    organisation: OrganisationRecord | None
    identities: tuple[tuple[str, str], ...]
    profile_fetched_at: datetime | None


Holder = MemberRecord | OrganisationRecord


@dataclass(frozen=True)
class ExpertiseRecord:
    id: int
    holder: Holder
    topic: str
    topic_key: str
    description: str
    created_at: datetime
    confirmed_at: datetime


@dataclass(frozen=True)
class HolderHit:
    """One person or organisation in a search result, with their entries that matched."""

    holder: Holder
    score: float
    entries: tuple[ExpertiseRecord, ...]


@dataclass(frozen=True)
class SearchPage:
    hits: tuple[HolderHit, ...]
    total: int


@dataclass(frozen=True)
class TopicCount:
    topic: str
    topic_key: str
    members: int
    organisations: int
