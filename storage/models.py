"""The schema. Changes go through an Alembic migration in storage/migrations/versions."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both databases (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Organisation(Base):
    """A school (basisschool, SO, SBO) or another organisation such as the CJG."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    werkgebied: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Member(Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(30), default="")
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    profile_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Identity(Base):
    """A member's account on one platform; a member may have one per platform."""

    __tablename__ = "identities"
    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)


class Expertise(Base):
    """One topic a member or an organisation knows about, with their own description."""

    __tablename__ = "expertise"
    __table_args__ = (
        CheckConstraint("(member_id IS NULL) <> (organisation_id IS NULL)", name="one_holder"),
        UniqueConstraint("member_id", "topic_key", name="uq_expertise_member_topic"),
        UniqueConstraint("organisation_id", "topic_key", name="uq_expertise_organisation_topic"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(100))
    topic_key: Mapped[str] = mapped_column(String(100), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExpertiseTerm(Base):
    """The search index: one row per (entry, stemmed term), with the weight of its field."""

    __tablename__ = "expertise_terms"
    # covering: a search reads term, holder entry and weight from the index alone
    __table_args__ = (Index("ix_expertise_terms_term", "term", "expertise_id", "weight"),)
    expertise_id: Mapped[int] = mapped_column(
        ForeignKey("expertise.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(String(100), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)


class SearchTerm(Base):
    """Every term ever indexed: the vocabulary that typos and compounds are matched against.

    Rows are only added, never removed, so its row count is a cheap version number for the
    in-memory copy of the vocabulary.
    """

    __tablename__ = "search_terms"
    term: Mapped[str] = mapped_column(String(100), primary_key=True)


class SearchState(Base):
    """One row whose `version` goes up, in the same transaction, with every change a search or a
    member shows: expertise; a member's name, role, school or accounts; an organisation.

    Search results and the members behind platform accounts are cached per version in each bot
    process; a version read from the database says whether they still hold, also with several
    instances (see `search_changed` in storage/repositories.py).
    """

    __tablename__ = "search_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    # rows in search_terms, kept here so that reading it is not a count over the vocabulary
    terms: Mapped[int] = mapped_column(Integer, server_default="0")


class Delivery(Base):
    """Inputs already processed, so a platform's retry or replay is handled once."""

    __tablename__ = "deliveries"
    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
