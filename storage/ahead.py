"""Reading ahead (issue 19, item 2): the version read of a Slack slash command goes out as soon as the request's
signature and schema hold, while bolt still routes it, instead of when the dispatcher gets to it.

A coroutine started as a task only runs at the event loop's next turn: by then bolt has done its work and the
read would go out no earlier than it does now. So `eagerly` runs the read's coroutine at once, up to where it
waits for PostgreSQL's answer (the query is sent), and a task finishes it. What it read is kept for the
request's first version read (`take`) and for nothing else: it was read after the request arrived, so an answer
built on it is no older than the database was then; a later transaction of the same request (a refresh after
the ack) reads again. Nobody takes it when the request is answered otherwise: the task ends by itself.
A newcomer's member is read ahead in the version read's own statement (storage/committed.py `read_ahead`).
"A request" is a context: aiohttp handles each request in a task of its own, which copies the connection's
context, so what one request kept is not seen by the next on the same keep-alive connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Hashable
from contextvars import ContextVar, copy_context
from typing import Any, TypeVar

T = TypeVar("T")

# one dict per request, shared by the tasks that copy the request's context: whoever takes a read first has it
_AHEAD: ContextVar[dict[Hashable, asyncio.Future[Any]] | None] = ContextVar("netwerkbot_read_ahead", default=None)


def keep(reads: dict[Hashable, asyncio.Future[Any]]) -> None:
    """Keep these reads, started (`eagerly`), each for this request's first `take` of its key."""
    _AHEAD.set(reads)


def take(key: Hashable) -> asyncio.Future[Any] | None:
    """What was read ahead under `key` in this request, once; None if nothing was (or it was taken)."""
    ahead = _AHEAD.get()
    return ahead.pop(key, None) if ahead else None


def eagerly(coroutine: Coroutine[Any, Any, T]) -> asyncio.Future[T]:
    """Run `coroutine` until it first waits, here and now, and the rest of it in a task (as Python 3.12's eager
    tasks do). Like a task it runs in a copy of the caller's context, its first step too: what it sets (a log
    reference, say) is its own, and it can reset that after it waited."""
    context = copy_context()
    try:
        waiting = context.run(coroutine.send, None)
    except StopIteration as done:
        finished: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        finished.set_result(done.value)
        return finished
    except Exception as error:  # (an interrupt is not kept for later)
        failed: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        failed.set_exception(error)
        return failed
    return asyncio.get_running_loop().create_task(_rest(coroutine, waiting), context=context)


async def _rest(coroutine: Coroutine[Any, Any, T], waiting: Any) -> T:
    """What a task does with a coroutine: wait for the future it yielded, then resume it, until it returns."""
    while True:
        try:
            if waiting is None:  # a bare yield (asyncio.sleep(0)): one turn of the loop
                await asyncio.sleep(0)
            else:
                waiting._asyncio_future_blocking = False  # as a task resets it before it waits itself
                await waiting
        except BaseException as error:
            if waiting is None or not waiting.done():  # this task was cancelled: so is the coroutine
                try:
                    waiting = coroutine.throw(error)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                continue
            # the future failed: the coroutine, resumed, sees its error itself
        try:
            waiting = coroutine.send(None)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
