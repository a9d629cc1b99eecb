"""What the Teams adapter keeps, as the adapter sees it: the conversations it may write to by itself.

storage/teams.py's `TeamsStore` implements it (built in bot/cli.py, handed to the adapter only).
"""

from __future__ import annotations

from typing import Protocol


class Known(Protocol):
    @property
    def conversation_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def service_url(self) -> str: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def team_id(self) -> str: ...
    @property
    def bot_id(self) -> str: ...


class TeamsState(Protocol):
    async def remember(self, conversation_id: str, kind: str, service_url: str, tenant_id: str, team_id: str,
                       bot_id: str, user_id: str) -> None: ...

    async def conversation(self, conversation_id: str) -> Known | None: ...

    async def personal(self, user_id: str) -> Known | None: ...

    async def forget(self, conversation_id: str) -> None: ...
