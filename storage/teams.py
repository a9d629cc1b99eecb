"""What the Teams adapter keeps: the conversations it may write to by itself (issue 20).

Plain rows: nothing here knows the Bot Framework protocol. `TeamsStore` is built in the composition root
(bot/cli.py) and handed to the Teams adapter only; handlers never see it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime

if TYPE_CHECKING:
    from storage.db import Database


class TeamsConversation(Base):
    """Where the bot may write on Teams by itself (issue 20): a channel, group chat or personal chat it was
    installed in or addressed from, with the Bot Connector address (`service_url`) Teams gave for it."""

    __tablename__ = "teams_conversations"
    conversation_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # personal, channel or groupChat
    service_url: Mapped[str] = mapped_column(String(500))
    tenant_id: Mapped[str] = mapped_column(String(64), default="")
    team_id: Mapped[str] = mapped_column(String(255), default="")
    bot_id: Mapped[str] = mapped_column(String(255), default="")
    user_id: Mapped[str] = mapped_column(String(255), default="", index=True)  # personal chats: the member's id
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)



@dataclass(frozen=True)
class ConversationRecord:
    """A conversation the bot was installed in (or addressed from), as Teams described it."""

    conversation_id: str
    kind: str  # personal, channel or groupChat
    service_url: str
    tenant_id: str = ""
    team_id: str = ""
    bot_id: str = ""
    user_id: str = ""  # a personal chat's member


def _record(row: TeamsConversation) -> ConversationRecord:
    return ConversationRecord(row.conversation_id, row.kind, row.service_url, row.tenant_id, row.team_id,
                              row.bot_id, row.user_id)


class TeamsStore:
    """The Teams adapter's own state, each call one transaction."""

    def __init__(self, db: Database, now: Callable[[], datetime]) -> None:
        self.db = db
        self.now = now

    async def remember(self, conversation_id: str, kind: str, service_url: str, tenant_id: str, team_id: str,
                       bot_id: str, user_id: str) -> None:
        """Keep (or refresh) where a conversation lives; Teams may move a tenant to another service URL."""
        async with self.db.transaction() as repos:
            row = await repos.session.get(TeamsConversation, conversation_id)
            if row is None:
                row = TeamsConversation(conversation_id=conversation_id)
                repos.session.add(row)
            row.kind, row.service_url, row.tenant_id = kind, service_url, tenant_id
            row.team_id, row.bot_id, row.user_id = team_id, bot_id, user_id
            row.updated_at = self.now()

    async def conversation(self, conversation_id: str) -> ConversationRecord | None:
        async with self.db.transaction() as repos:
            row = await repos.session.get(TeamsConversation, conversation_id)
            return _record(row) if row is not None else None

    async def personal(self, user_id: str) -> ConversationRecord | None:
        """The member's personal chat with the bot, when they have one."""
        async with self.db.transaction() as repos:
            row = (await repos.session.scalars(select(TeamsConversation).where(
                TeamsConversation.user_id == user_id, TeamsConversation.kind == "personal"))).first()
            return _record(row) if row is not None else None

    async def latest(self) -> ConversationRecord | None:
        """The conversation Teams described last (its service URL and tenant serve for a new personal chat)."""
        async with self.db.transaction() as repos:
            row = (await repos.session.scalars(select(TeamsConversation)
                                               .order_by(TeamsConversation.updated_at.desc()).limit(1))).first()
            return _record(row) if row is not None else None

    async def forget(self, conversation_id: str) -> None:
        """The bot was removed from the conversation: nothing is sent there any more."""
        async with self.db.transaction() as repos:
            row = await repos.session.get(TeamsConversation, conversation_id)
            if row is not None:
                await repos.session.delete(row)
