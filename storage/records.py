"""Plain objects the repositories hand to handlers (no ORM sessions leak out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


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


@dataclass(frozen=True)
class OccurrenceRecord:
    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    due_at: datetime
    expires_at: datetime | None
    state: str
    done_at: datetime | None


@dataclass(frozen=True)
class PlannedOccurrence:
    """What a planner wants to exist: a key, its moment and what the job needs to know."""

    key: str
    kind: str
    due_at: datetime
    payload: dict[str, Any]
    expires_at: datetime | None = None


@dataclass(frozen=True)
class OutboxRecord:
    id: int
    key: str | None
    channel: str
    body: str
    created_at: datetime
    next_attempt_at: datetime
    attempts: int
    lease_until: datetime | None
    sent_at: datetime | None
    failed_at: datetime | None
    last_error: str
    message_ref: str = ""


@dataclass(frozen=True)
class MeetingChangeRecord:
    series: str
    planned: date
    skip_reason: str | None
    moved_to: datetime | None
    changed_by: int | None
    changed_at: datetime


@dataclass(frozen=True)
class AgendaItemRecord:
    id: int
    series: str
    planned: date
    text: str
    author_id: int | None
    author_name: str
    created_at: datetime
