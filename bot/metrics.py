"""`GET /metrics` (Prometheus) and the split health checks, for the bot's HTTP servers.

The counters and the latency histogram are fed by the dispatcher's `observed` hook; what lives in
the database (the outbox, scheduled occurrences) is read when Prometheus scrapes, so every instance
reports the same truth and a restart loses no gauge. Each bot has its own registry: nothing is
registered at import time.

Health: `/healthz/live` says the process serves requests (for a restart policy); `/healthz/ready`
says it can do its work, i.e. the database answers (for a load balancer). `/healthz` stays what it
was: the readiness check.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text

from bot.core.clock import Clock
from bot.core.inputs import Action, ChannelMessage, Command, FormSubmission, Input, Reaction
from config.settings import Settings
from storage.db import Database
from storage.models import Occurrence, OutboxMessage

log = logging.getLogger(__name__)
Observer = Callable[[Input, float, "str | None"], None]


class _Dispatcher(Protocol):
    observed: Observer | None


class _Refresher(Protocol):
    @property
    def updates(self) -> Mapping[str, int]: ...


class Bot(Protocol):
    """What the metrics read of the composition root (structurally, so adapters need not import it)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def db(self) -> Database: ...
    @property
    def dispatcher(self) -> _Dispatcher: ...
    @property
    def refresher(self) -> _Refresher: ...

METRICS_PATH = "/metrics"
LIVE_PATH = "/healthz/live"
READY_PATH = "/healthz/ready"
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)
KINDS = {Command: "command", Action: "action", FormSubmission: "form", ChannelMessage: "message",
         Reaction: "reaction"}


def feature_of(inp: Input) -> str:
    """The feature an input is for: the command's name, or the first part of an action or form id
    (`vote:cast` → vote); messages and reactions go to the listeners."""
    if isinstance(inp, Command):
        return inp.name
    if isinstance(inp, Action):
        return _prefix(inp.action_id)
    if isinstance(inp, FormSubmission):
        return _prefix(inp.form_id)
    return "listeners"


def _prefix(identifier: str) -> str:
    for separator in (":", ".", "_"):
        identifier = identifier.split(separator, 1)[0]
    return identifier[:30] or "-"


class _Refreshes(Collector):
    """The refresher's updates of sent messages (a vote's tally), as a counter."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily("netwerkbot_refresher_updates", "Sent messages updated in place (vote tallies, "
                                     "digests)")
        family.add_metric([], float(sum(self.bot.refresher.updates.values())))
        yield family


class _Undecryptable(Collector):
    """What the Matrix adapter counts of the events it could not decrypt: "seen", and "recovered" when their key
    came (handed over by `netwerkbot matrix --port`, bot/adapters/matrix/__init__.py)."""

    def __init__(self, counts: Mapping[str, int]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily("netwerkbot_matrix_undecryptable", "Matrix events the bot could not decrypt "
                                     "(state=seen), and of those decrypted later, when their room key came "
                                     "(state=recovered)", labels=["state"])
        for state in ("seen", "recovered"):
            family.add_metric([state], float(self.counts.get(state, 0)))
        yield family


class Metrics:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.registry = CollectorRegistry()
        r = self.registry
        self.inputs = Counter("netwerkbot_inputs", "Inputs handled, by feature and kind", ["feature", "kind"],
                              registry=r)
        self.latency = Histogram("netwerkbot_answer_seconds", "Time to the answer: within Slack's ack budget "
                                 "(phase=ack) or after it (phase=after)", ["phase"], buckets=LATENCY_BUCKETS,
                                 registry=r)
        self.errors = Counter("netwerkbot_errors", "Inputs that ended in an error, by kind (user: a Dutch refusal; "
                              "database: unreachable; unexpected: a bug, with a reference in the log)", ["kind"],
                              registry=r)
        self.backlog = Gauge("netwerkbot_outbox_backlog", "Messages waiting in the outbox", registry=r)
        self.oldest = Gauge("netwerkbot_outbox_oldest_seconds", "Age of the oldest message waiting in the outbox "
                            "(0 when none waits)", registry=r)
        self.failed = Gauge("netwerkbot_outbox_failed", "Messages that could not be delivered and were given up",
                            registry=r)
        self.occurrences = Gauge("netwerkbot_occurrences", "Scheduled reminders and deadlines: due (pending and "
                                 "fallen due), late (done after their time), missed", ["state"], registry=r)
        self.database_up = Gauge("netwerkbot_database_up", "1 when the last scrape could read the database",
                                 registry=r)
        Gauge("netwerkbot_gc_frozen_objects", "Objects of the start-up frozen out of the garbage collector's full "
              "passes (bot/adapters/base.py settle)", registry=r).set_function(lambda: float(gc.get_freeze_count()))
        for error in ("user", "form", "database", "unexpected"):
            self.errors.labels(error)
        for phase in ("ack", "after"):
            self.latency.labels(phase)
        r.register(_Refreshes(bot))

    def observe(self, inp: Input, seconds: float, error: str | None) -> None:
        """The dispatcher's hook: one input done in `seconds`, `error` its kind or None."""
        self.inputs.labels(feature_of(inp), KINDS.get(type(inp), "other")).inc()
        phase = "ack" if seconds <= self.bot.settings.ack_budget_seconds else "after"
        self.latency.labels(phase).observe(seconds)
        if error is not None:
            self.errors.labels(error).inc()

    async def read_database(self) -> None:
        now = self.bot.clock.now()
        try:
            async with asyncio.timeout(5), self.bot.db.engine.connect() as c:
                waiting = OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None)
                backlog = (await c.execute(select(func.count()).where(*waiting))).scalar_one()
                oldest = (await c.execute(select(func.min(OutboxMessage.created_at)).where(*waiting))).scalar_one()
                failed = (await c.execute(select(func.count()).where(OutboxMessage.failed_at.is_not(None))))\
                    .scalar_one()
                due = (await c.execute(select(func.count()).where(Occurrence.state == "pending",
                                                                  Occurrence.due_at <= now))).scalar_one()
                counted = await c.execute(select(Occurrence.state, func.count()).where(
                    Occurrence.state.in_(("late", "missed"))).group_by(Occurrence.state))
                states = {str(state): int(count) for state, count in counted.all()}
        except Exception as error:
            log.warning("metrics: database unavailable: %s", type(error).__name__)
            self.database_up.set(0)
            return
        self.database_up.set(1)
        self.backlog.set(backlog)
        self.oldest.set(max(0.0, (now - _aware(oldest)).total_seconds()) if oldest is not None else 0)
        self.failed.set(failed)
        self.occurrences.labels("due").set(due)
        for state in ("late", "missed"):
            self.occurrences.labels(state).set(states.get(state, 0))

    async def serve(self, _request: web.Request) -> web.Response:
        await self.read_database()
        return web.Response(body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def database_ready(bot: Bot) -> bool:
    try:
        async with asyncio.timeout(2), bot.db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:
        log.warning("health check: database unavailable: %s", type(error).__name__)
        return False
    return True


def add_routes(app: web.Application, bot: Bot, undecryptable: Mapping[str, int] | None = None) -> Metrics:
    """`GET /metrics`, `/healthz/live` and `/healthz/ready` on an adapter's aiohttp app; the dispatcher
    reports every input to the returned Metrics from now on."""
    metrics = Metrics(bot)
    bot.dispatcher.observed = metrics.observe
    if undecryptable is not None:
        metrics.registry.register(_Undecryptable(undecryptable))

    async def live(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def ready(_request: web.Request) -> web.Response:
        if await database_ready(bot):
            return web.json_response({"status": "ok", "database": "ok"})
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)

    app.router.add_get(METRICS_PATH, metrics.serve)
    app.router.add_get(LIVE_PATH, live)
    app.router.add_get(READY_PATH, ready)
    return metrics
