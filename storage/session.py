"""A transaction's session, set up when it is first used (issue 19, the ack's time).

A search asked again reads nothing through its session: the version is read beside it (storage.committed), the member,
the rights and the page come from memory. Yet every input paid for an `AsyncSession` and its `Session` as soon as
its transaction opened: 0.12 ms of the bot's 1.5 ms inside the server at the p50 on PostgreSQL with the processor's
caches as cold as they are between requests (bench/README.md). `LazySession` is that session, but set up at the
first use of anything but its `info`, which exists from the start and becomes the session's own; a transaction
that never used it has nothing to commit or close (`is_set_up`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

R = TypeVar("R")


class LazySession(AsyncSession):
    def __init__(self, bind: Any = None, **kw: Any) -> None:  # (AsyncSession.__init__ runs at the first use)
        self._lazy_setup: dict[str, Any] | None = {"bind": bind, **kw}
        self._lazy_info: dict[Any, Any] = {}

    @property
    def info(self) -> dict[Any, Any]:
        return self._lazy_info

    def __getattr__(self, name: str) -> Any:
        """Only called for what this object does not have yet: everything AsyncSession's own set-up makes."""
        setup = self.__dict__.get("_lazy_setup")
        if setup is None:
            raise AttributeError(name)
        self._lazy_setup = None
        AsyncSession.__init__(self, **setup)
        self.sync_session.__dict__["info"] = self._lazy_info  # the same dict (Session keeps its `info` there)
        return getattr(self, name)


def is_set_up(session: AsyncSession) -> bool:
    """Whether the session was used beyond its `info` (a session that is no `LazySession`: always)."""
    return not isinstance(session, LazySession) or session._lazy_setup is None


class FirstUse(Generic[R]):
    """An attribute of a transaction's `Repositories`: the repository made from its session when first read (most
    inputs use two or three of them)."""

    def __init__(self, make: Callable[[AsyncSession], R]) -> None:
        self.make = make

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, repos: Any, owner: type | None = None) -> R:
        made = repos.__dict__[self.name] = self.make(repos.session)  # read from there from now on
        return made
