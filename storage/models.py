"""The schema. Changes go through an Alembic migration in storage/migrations/versions."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
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
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

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
        return as_utc(value)


def as_utc(value: datetime | str | None) -> datetime | None:
    """A stored moment as an aware UTC datetime: SQLite hands back naive UTC (as text when read without
    SQLAlchemy, storage/accounts.py), PostgreSQL an aware one."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


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
    brin: Mapped[str | None] = mapped_column(String(6), unique=True)  # BRIN + vestiging (DUO), e.g. 12AB00


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
    # the last day the member used the bot (written at most once a day): members long unseen are listed
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # set when the member was forgotten: the row stays as a pseudonym ("een voormalig lid") so that
    # decisions and history keep their shape; nothing personal is left in it
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


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
    member shows (expertise; a member's name, role, school or accounts; an organisation): caches in
    each bot process hold for a version; `search_changes` says what the next ones changed.
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


class Occurrence(Base):
    """Something the bot does by itself at a moment: a reminder, a vote's close.

    The key is unique, so planning twice (or two instances planning) makes one row; whoever
    moves it out of `pending` in a transaction is the one who acts on it (see bot/scheduler.py).
    """

    __tablename__ = "occurrences"
    __table_args__ = (Index("ix_occurrences_state_due_at", "state", "due_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    payload: Mapped[str] = mapped_column(Text, default="{}")  # JSON, for the job of its kind
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # after this moment acting makes no sense any more (a reminder after the meeting began)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(12), default="pending")  # pending, done, late, missed, cancelled
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """A message the bot sends by itself, kept until the platform has taken it.

    Sent in order of id within a channel; `next_attempt_at` moves on after a failure, and
    `lease_until` keeps a second instance from sending the same message meanwhile.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_sent_at_id", "sent_at", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str | None] = mapped_column(String(255), unique=True)
    channel: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)  # the Reply as JSON (bot/core/reply.py)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    message_ref: Mapped[str] = mapped_column(String(255), default="")  # the platform's id of the sent message


class MeetingChange(Base):
    """A coordinator's exception to a series' rhythm: one meeting skipped or moved."""

    __tablename__ = "meeting_changes"
    series: Mapped[str] = mapped_column(String(60), primary_key=True)
    planned: Mapped[date] = mapped_column(Date, primary_key=True)
    skip_reason: Mapped[str | None] = mapped_column(Text)
    moved_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgendaItem(Base):
    """A point for a meeting's agenda; removing it keeps the row (who removed it, when)."""

    __tablename__ = "agenda_items"
    __table_args__ = (Index("ix_agenda_items_series_planned", "series", "planned"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series: Mapped[str] = mapped_column(String(60))
    planned: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SeriesSettings(Base):
    """A coordinator's edits of a meeting series (JSON of the changed fields) over the shipped file."""

    __tablename__ = "series_settings"
    series: Mapped[str] = mapped_column(String(60), primary_key=True)
    values: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Pitch(Base):
    """A school's idea for a jointly funded project, on its way through a trimester meeting."""

    __tablename__ = "pitches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text)
    benefit: Mapped[str] = mapped_column(Text)
    amount_cents: Mapped[int] = mapped_column(Integer)
    cofunding_cents: Mapped[int] = mapped_column(Integer, default=0)
    theme: Mapped[str] = mapped_column(String(100))
    contact: Mapped[str] = mapped_column(String(200))
    submitter_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), index=True)
    meeting: Mapped[date | None] = mapped_column(Date)  # the trimester meeting it goes to
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PitchSchool(Base):
    __tablename__ = "pitch_schools"
    pitch_id: Mapped[int] = mapped_column(ForeignKey("pitches.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                 primary_key=True)


class StatusEvent:
    """The columns of every status history (storage/history.py): what it became, who did it (None: the bot,
    e.g. a vote's close) and when."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")

    @declared_attr
    def actor_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("members.id", ondelete="SET NULL"))


class PitchEvent(StatusEvent, Base):
    """Every change of a pitch."""

    __tablename__ = "pitch_events"
    pitch_id: Mapped[int] = mapped_column(ForeignKey("pitches.id", ondelete="CASCADE"), index=True)


class Vote(Base):
    """A vote in a channel; its rules are fixed when it starts."""

    __tablename__ = "votes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(String(300))
    options: Mapped[str] = mapped_column(Text)  # JSON list of labels
    electorate: Mapped[str] = mapped_column(String(20))  # members, schools
    werkgebied: Mapped[str] = mapped_column(String(100), default="")  # only members/schools of this work area
    secret: Mapped[bool] = mapped_column(Boolean)
    show_while_open: Mapped[bool] = mapped_column(Boolean)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    quorum: Mapped[int] = mapped_column(Integer, default=0)  # minimum ballots (members) or schools
    threshold: Mapped[int] = mapped_column(Integer, default=0)  # 0: majority of votes cast; else a percentage
    pitch_id: Mapped[int | None] = mapped_column(ForeignKey("pitches.id", ondelete="SET NULL"))
    accepting_option: Mapped[int | None] = mapped_column(Integer)  # with a pitch: the option that accepts it
    channel: Mapped[str] = mapped_column(String(255))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str] = mapped_column(Text, default="")  # JSON, written at the close
    kind: Mapped[str] = mapped_column(String(10), default="single", server_default="single")  # single/multiple/ranked
    max_choices: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # multiple: at most this many


class Ballot(Base):
    """The ballot of one voter (a member, or a school when it is one vote per school): the last one counts."""

    __tablename__ = "ballots"
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id", ondelete="CASCADE"), primary_key=True)
    voter: Mapped[str] = mapped_column(String(40), primary_key=True)  # "m:<member id>" or "s:<organisation id>"
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    option: Mapped[int] = mapped_column(Integer)  # multiple / ranked: the first of `choices`
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime)
    choices: Mapped[str] = mapped_column(Text, default="", server_default="")  # multiple / ranked: JSON list, in order


class Idea(Base):
    """An idea of the outer circle on its way to the inner circle.

    `text_key` (the folded text) and `source` (platform, channel and message) are unique, so the
    same text or the same message is never an idea twice, however often someone adds the 💡.
    """

    __tablename__ = "ideas"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    theme: Mapped[str] = mapped_column(String(60), default="")  # "": the bot still asks for one
    text: Mapped[str] = mapped_column(Text)
    text_key: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the folded text
    source: Mapped[str | None] = mapped_column(String(400), unique=True)  # "platform:channel:message id"
    channel: Mapped[str] = mapped_column(String(255), default="")
    thread: Mapped[str] = mapped_column(String(255), default="")  # where the author hears back ("": a DM)
    link: Mapped[str] = mapped_column(Text, default="")
    source_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    added_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), index=True)  # nieuw, geparkeerd, opgepakt, afgerond
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    due: Mapped[date | None] = mapped_column(Date)
    digest_id: Mapped[int | None] = mapped_column(Integer, index=True)  # the first digest that carried it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdeaEvent(StatusEvent, Base):
    """Every change of an idea."""

    __tablename__ = "idea_events"
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)


class Digest(Base):
    """A digest posted to the inner circle: which ideas each of its messages shows (JSON lists of ids)."""

    __tablename__ = "digests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)  # the occurrence that made it
    title: Mapped[str] = mapped_column(String(200))
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the previous digest
    pages: Mapped[str] = mapped_column(Text)  # JSON: [[idea id, …], …], one list per message
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MatrixSession(Base):
    """The bot's Matrix login and where its sync stands, so a restart keeps its device and neither
    replays old messages nor misses new ones."""

    __tablename__ = "matrix_sessions"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(255))
    access_token: Mapped[str] = mapped_column(Text)
    next_batch: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MatrixDirectRoom(Base):
    """The bot's direct-message room with a Matrix user (private answers, form dialogs, secret votes)."""

    __tablename__ = "matrix_direct_rooms"
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))


class MatrixButtons(Base):
    """The buttons last shown in a room, as numbered commands (`!1`, `!2`): to one user, or to
    everyone in the room (`user_id` empty). JSON list of [action_id, value, label]."""

    __tablename__ = "matrix_buttons"
    room_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    buttons: Mapped[str] = mapped_column(Text)
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MatrixPoll(Base):
    """A ballot the bot posted: a native poll (open vote) or a list of `!stem` choices cast by DM (secret
    vote). Its answers are the buttons of the vote message: JSON list of [action_id, value, label]."""

    __tablename__ = "matrix_polls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[str] = mapped_column(String(255))
    event_id: Mapped[str | None] = mapped_column(String(255), unique=True)  # the poll start (or the message)
    text_event_id: Mapped[str] = mapped_column(String(255), default="")  # the message with the tally
    secret: Mapped[bool] = mapped_column(Boolean)
    buttons: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SchoolRequest(Base):
    """A member's own word about their school or organisation: a request until a coordinator confirms it.

    Who may act for a school (its ballot in a vote per school, editing its pitches) is `Member.organisation_id`,
    which only the import and coordinators set; this row is what a member asked and what became of it
    (state open, confirmed, refused or replaced by a later request; who decided and when).
    """

    __tablename__ = "school_requests"
    __table_args__ = (Index("ix_school_requests_state_member_id", "state", "member_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(12))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PendingShare(Base):
    """Text held back by the pupil-data check until its author chose (edit / share anyway): the input to run
    again, as JSON. Deleted when the author chooses, and by the housekeeping an hour after it was made."""

    __tablename__ = "pending_shares"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Coordinator(Base):
    """A platform account with coordinator rights. NETWERKBOT_COORDINATORS only seeds a row once; a removal
    (`removed_at`) sticks, also across restarts with the same environment."""

    __tablename__ = "coordinators"
    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    added_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CoordinatorAction(Base):
    """The log of what coordinators did: who, when, what (the command or button, never a message text)."""

    __tablename__ = "coordinator_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    what: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(300), default="")


class CircleMember(Base):
    """Who is in a circle's channel (consultants, inner_circle, outer_circle), per platform account, as the
    platform says (Slack conversations.members and member_joined/left_channel, Matrix m.room.member)."""

    __tablename__ = "circle_members"
    circle: Mapped[str] = mapped_column(String(20), primary_key=True)
    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)


class InboxEntry(Base):
    """An input acknowledged before it was handled (a button press, a form that outlived the ack budget):
    kept here first, so a crash after the ack loses nothing, and deleted once handled (it may hold what
    someone typed). `key` is the delivery id its handling claims, so it takes effect once (bot/inbox.py)."""

    __tablename__ = "inbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
