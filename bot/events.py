"""The one place where what a committed transaction did is routed: queued messages wake the
timekeeper (and so the outbox), changed messages go to the refresher.

The unit of work (`storage.db.Database.transaction`) collects the events and hands them here only
after its commit, so nothing acts on a message that a rollback took back.
"""

from __future__ import annotations

from collections.abc import Callable

from storage.scheduling import Happened


class Router:
    def __init__(self) -> None:
        self._queued: list[Callable[[], None]] = []
        self._changed: list[Callable[[set[str]], None]] = []
        self._wrote: list[Callable[[], None]] = []

    def on_queued(self, listener: Callable[[], None]) -> None:
        self._queued.append(listener)

    def on_changed(self, listener: Callable[[set[str]], None]) -> None:
        self._changed.append(listener)

    def on_wrote(self, listener: Callable[[], None]) -> None:
        """Hear of every committed transaction that wrote anything (views kept current: bot/refresh.py)."""
        self._wrote.append(listener)

    def route(self, happened: Happened) -> None:
        if happened.queued:
            for queued in self._queued:
                queued()
        if happened.changed:
            for changed in self._changed:
                changed(happened.changed)
        if happened.wrote:
            for wrote in self._wrote:
                wrote()
