"""Who asks for the same thing while it is being made waits for that one making (single flight).

After a change, 50 askers arriving at once would each read the same page or member side by side (on SQLite
all on its one connection thread); with `Together` the first makes it and the others get its result. A making
that fails, or that finds nothing, is not shared: who waited makes it themselves."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Together(Generic[K, V]):
    def __init__(self) -> None:
        self._making: dict[K, asyncio.Future[V | None]] = {}

    async def once(self, key: K, make: Callable[[], Awaitable[V]]) -> V:
        """`make()`, unless a making of `key` is under way: then its result (when it found something)."""
        making = self._making.get(key)
        if making is not None and (made := await asyncio.shield(making)) is not None:
            return made
        self._making[key] = making = asyncio.get_running_loop().create_future()
        try:
            value = await make()
            making.set_result(value)
            return value
        finally:
            if not making.done():
                making.set_result(None)
            if self._making.get(key) is making:
                del self._making[key]
