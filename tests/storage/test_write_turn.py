"""SQLite's one writer taken in turns (storage.db `WriteTurn`): the inbox keeping presses goes first (issue 19).

Under a burst of ballots the groups being handled queue for the writer; a press is acknowledged only once
its inbox row is written, so that write must not queue behind them: it waits for the one transaction
under way, then goes.
"""

from __future__ import annotations

import asyncio

from storage.db import WriteTurn


async def test_a_writer_that_goes_first_waits_only_for_the_one_under_way() -> None:
    turn, order = WriteTurn(), []
    release = asyncio.Event()

    async def group(name: str) -> None:
        async with turn:
            order.append(name)
            await release.wait()

    async def keep(name: str) -> None:
        async with turn.first():
            order.append(name)

    under_way = asyncio.create_task(group("group 1"))
    await asyncio.sleep(0)  # it holds the turn
    queued = [asyncio.create_task(group(f"group {n}")) for n in (2, 3)]
    await asyncio.sleep(0)  # both wait for it
    inbox = asyncio.create_task(keep("inbox"))
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(under_way, *queued, inbox)
    assert order == ["group 1", "inbox", "group 2", "group 3"]


async def test_writers_that_do_not_go_first_keep_their_order() -> None:
    turn, order = WriteTurn(), []

    async def write(n: int) -> None:
        async with turn:
            order.append(n)
            await asyncio.sleep(0)

    await asyncio.gather(*(write(n) for n in range(5)))
    assert order == list(range(5))
