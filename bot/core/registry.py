"""Where a feature declares, in one place, the commands, buttons and forms it answers.

The registry is generic over the handler context type, so the core knows nothing of storage:
the dispatcher builds the context, the handlers use it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from bot.core.inputs import Action, Command, FormSubmission, Listened, MembershipChanged
from bot.core.reply import Outcome

C = TypeVar("C")

CommandHandler = Callable[[C, Command], Awaitable[Outcome]]
ActionHandler = Callable[[C, Action], Awaitable[Outcome]]
FormHandler = Callable[[C, FormSubmission], Awaitable[Outcome]]
Listener = Callable[[C, Listened], Awaitable[Outcome]]  # messages and reactions in channels
MembershipListener = Callable[[Any, MembershipChanged], Awaitable[None]]  # given the job context: nobody acts


@dataclass
class Feature(Generic[C]):
    name: str
    commands: dict[str, CommandHandler[C]] = field(default_factory=dict)
    actions: dict[str, ActionHandler[C]] = field(default_factory=dict)
    forms: dict[str, FormHandler[C]] = field(default_factory=dict)
    listeners: list[Listener[C]] = field(default_factory=list)
    memberships: list[MembershipListener] = field(default_factory=list)

    def command(self, name: str, handler: CommandHandler[C]) -> None:
        self.commands[name] = handler

    def action(self, action_id: str, handler: ActionHandler[C]) -> None:
        self.actions[action_id] = handler

    def form(self, form_id: str, handler: FormHandler[C]) -> None:
        self.forms[form_id] = handler

    def listen(self, handler: Listener[C]) -> None:
        self.listeners.append(handler)

    def membership(self, handler: MembershipListener) -> None:
        self.memberships.append(handler)


class Registry(Generic[C]):
    """All features of one bot. Names must be unique across features."""

    def __init__(self) -> None:
        self.commands: dict[str, CommandHandler[C]] = {}
        self.actions: dict[str, ActionHandler[C]] = {}
        self.forms: dict[str, FormHandler[C]] = {}
        self.listeners: list[Listener[C]] = []
        self.memberships: list[MembershipListener] = []

    def add(self, feature: Feature[C]) -> None:
        clash = (self.commands.keys() & feature.commands.keys()) | (
            self.actions.keys() & feature.actions.keys()) | (self.forms.keys() & feature.forms.keys())
        if clash:
            raise ValueError(f"{feature.name}: already registered: {sorted(clash)}")
        self.commands.update(feature.commands)
        self.actions.update(feature.actions)
        self.forms.update(feature.forms)
        self.listeners.extend(feature.listeners)
        self.memberships.extend(feature.memberships)
