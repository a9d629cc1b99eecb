"""Where a feature declares all of itself: commands, buttons, forms, listeners, scheduled jobs by
kind, planners and the renderers of messages it keeps current.

The registry is generic over the handler context `C` and the job context `J`, so the core knows
nothing of storage: the runtime builds the contexts, the features use them. `bot/app.py` lists the
features once; the dispatcher, the scheduler and the refresher read what they need from here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bot.core.inputs import Action, Command, FormSubmission, Listened, MembershipChanged
from bot.core.reply import Outcome, Reply
from config.i18n import Catalog

C = TypeVar("C")
J = TypeVar("J")

CommandHandler = Callable[[C, Command], Awaitable[Outcome]]
ActionHandler = Callable[[C, Action], Awaitable[Outcome]]
FormHandler = Callable[[C, FormSubmission], Awaitable[Outcome]]
Listener = Callable[[C, Listened], Awaitable[Outcome]]  # messages and reactions in channels
Job = Callable[[J], Awaitable[None]]  # acts on `ctx.due`, the occurrence, in the transaction that claimed it
Planner = Callable[[J], Awaitable[None]]  # brings the feature's future occurrences up to date (idempotent)
Renderer = Callable[[J, str], Awaitable[Reply | None]]  # a kept-current message anew, by its outbox key
MembershipListener = Callable[[J, MembershipChanged], Awaitable[None]]  # who is in a circle's channel; nobody acts
# whether a command's text only asks (a search): its answer needs no member, so a person who is none yet is
# answered at once and named by the platform after the answer (bot/dispatch.py `is_question`, adapters/base.py)
Question = Callable[[str, Catalog], bool]


@dataclass
class Feature(Generic[C, J]):
    name: str
    commands: dict[str, CommandHandler[C]] = field(default_factory=dict)
    actions: dict[str, ActionHandler[C]] = field(default_factory=dict)
    forms: dict[str, FormHandler[C]] = field(default_factory=dict)
    listeners: list[Listener[C]] = field(default_factory=list)
    jobs: dict[str, Job[J]] = field(default_factory=dict)
    planners: list[Planner[J]] = field(default_factory=list)
    renderers: dict[str, Renderer[J]] = field(default_factory=dict)
    memberships: list[MembershipListener[J]] = field(default_factory=list)
    published: dict[str, Renderer[J]] = field(default_factory=dict)
    questions: dict[str, Question] = field(default_factory=dict)

    def command(self, name: str, handler: CommandHandler[C], *, asks: Question | None = None) -> None:
        self.commands[name] = handler
        if asks is not None:
            self.questions[name] = asks

    def action(self, action_id: str, handler: ActionHandler[C]) -> None:
        self.actions[action_id] = handler

    def form(self, form_id: str, handler: FormHandler[C]) -> None:
        self.forms[form_id] = handler

    def listen(self, handler: Listener[C]) -> None:
        self.listeners.append(handler)

    def job(self, kind: str, handler: Job[J]) -> None:
        """Run `handler` for every occurrence of `kind` when it falls due."""
        self.jobs[kind] = handler

    def membership(self, handler: MembershipListener[J]) -> None:
        """Hear who joins and leaves the channels of the circles (the platform's membership)."""
        self.memberships.append(handler)

    def plan(self, planner: Planner[J]) -> None:
        self.planners.append(planner)

    def keep_current(self, key_prefix: str, render: Renderer[J]) -> None:
        """Messages sent with an outbox key starting with `key_prefix` are re-rendered when `ctx.changed(key)`."""
        self.renderers[key_prefix] = render

    def keep_published(self, key_prefix: str, render: Renderer[J]) -> None:
        """Views a platform shows one person (Slack's Home tab), keyed `key_prefix…`: rendered when the person
        opens it and again, at most once a second, when anything changes while they watch (bot/refresh.py)."""
        self.published[key_prefix] = render


class Registry(Generic[C, J]):
    """All features of one bot. Names must be unique across features."""

    def __init__(self, features: list[Feature[C, J]] | None = None) -> None:
        self.features: list[Feature[C, J]] = []
        self.commands: dict[str, CommandHandler[C]] = {}
        self.actions: dict[str, ActionHandler[C]] = {}
        self.forms: dict[str, FormHandler[C]] = {}
        self.listeners: list[Listener[C]] = []
        self.jobs: dict[str, Job[J]] = {}
        self.planners: list[Planner[J]] = []
        self.renderers: dict[str, Renderer[J]] = {}
        self.memberships: list[MembershipListener[J]] = []
        self.published: dict[str, Renderer[J]] = {}
        self.questions: dict[str, Question] = {}
        for feature in features or []:
            self.add(feature)

    def add(self, feature: Feature[C, J]) -> None:
        clash = (self.commands.keys() & feature.commands.keys()) | (
            self.actions.keys() & feature.actions.keys()) | (self.forms.keys() & feature.forms.keys()) | (
            self.jobs.keys() & feature.jobs.keys()) | (self.renderers.keys() & feature.renderers.keys()) | (
            self.published.keys() & feature.published.keys())
        if clash:
            raise ValueError(f"{feature.name}: already registered: {sorted(clash)}")
        self.features.append(feature)
        self.commands.update(feature.commands)
        self.questions.update(feature.questions)
        self.actions.update(feature.actions)
        self.forms.update(feature.forms)
        self.listeners.extend(feature.listeners)
        self.jobs.update(feature.jobs)
        self.planners.extend(feature.planners)
        self.renderers.update(feature.renderers)
        self.memberships.extend(feature.memberships)
        self.published.update(feature.published)
