"""What every handler gets: the input's transaction, the member who acts, and the tools to answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.core.errors import UserError
from bot.core.inputs import Actor
from config.i18n import Catalog
from config.settings import Settings
from storage.records import MemberRecord
from storage.repositories import Repositories


@dataclass(frozen=True)
class HandlerContext:
    repos: Repositories  # one transaction: committed when the handler returns, rolled back when it raises
    member: MemberRecord
    actor: Actor
    t: Catalog
    now: datetime  # aware, in the cooperation's timezone
    settings: Settings
    is_coordinator: bool
    prefix: str  # how commands are typed on this platform: "/" or "!"
    pupil_data_confirmed: bool = False  # the author chose "Toch delen" after the pupil-data warning
    # set by require_coordinator: the dispatcher logs the input as a coordinator action once it succeeded
    coordinator_acts: list[bool] = field(default_factory=list)

    def require_coordinator(self) -> None:
        if not self.is_coordinator:
            raise UserError(self.t("general.only_coordinators"))
        self.acts_as_coordinator()

    def acts_as_coordinator(self) -> None:
        """This input uses coordinator rights (also where a handler checked `is_coordinator` itself, e.g.
        for another member's entry): once it succeeds, the dispatcher writes it to the coordinators' log."""
        self.coordinator_acts.append(True)


@dataclass(frozen=True)
class JobContext:
    """What a scheduled job (a reminder, a vote's close) or a planner gets: no member acts."""

    repos: Repositories  # the transaction that also claimed the occurrence
    t: Catalog
    now: datetime
    settings: Settings
    late: bool = False  # the moment passed a while ago (the bot was down): say so
