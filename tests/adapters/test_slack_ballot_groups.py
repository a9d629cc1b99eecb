"""Ballots at burst speed (issue 19): presses that arrive together are kept, then handled in groups, one
transaction per group (group commit), on SQLite and PostgreSQL; every press is still answered on its own, one
that fails is answered alone, the last press of a member counts, and nothing is handled twice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.app import Bot
from bot.core.clock import ManualClock
from bot.core.inputs import Action, Actor, FormSubmission
from bot.core.reply import Outcome, Reply
from bot.inbox import GROUP_ACKING, Kept
from storage.models import Ballot
from tests.adapters.test_slack_e2e import World, running
from tests.adapters.test_slack_proposals import posted
from tests.fake_slack import User
from tests.support import add_member, text_of

PROPOSALS = "C0VOORSTEL"
COORDINATOR = Actor("slack", "UCOORD", "marieke")
VOTE = {"question": "Gaan we door met de groeiklas?", "options": "voor, tegen", "electorate": "members",
        "secret": "nee", "visible": "ja", "deadline": "over 3 dagen"}
PRESSES = 40


class BallotCommits:
    """Counts the committed transactions that wrote a ballot."""

    def __init__(self, bot: Bot) -> None:
        self.count = 0
        engine = bot.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self.statement)
        event.listen(engine, "commit", self.commit)
        event.listen(engine, "rollback", self.rollback)

    def statement(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO BALLOTS"):
            conn.info["ballot written"] = True

    def commit(self, conn: Any) -> None:
        self.count += int(conn.info.pop("ballot written", False))

    def rollback(self, conn: Any) -> None:
        conn.info.pop("ballot written", None)


@pytest.fixture
async def world(database_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(database_url, clock, channel_proposals=PROPOSALS) as w:
        w.bot.connect(w.adapter)
        try:
            yield w
        finally:
            await w.bot.refresher.stop()


async def ballots(bot: Bot) -> dict[int, int]:
    async with bot.db.transaction() as repos:
        return {int(member or 0): option for member, option in await repos.session.execute(
            select(Ballot.member_id, Ballot.option).where(Ballot.vote_id == 1))}


async def test_presses_arriving_together_are_counted_in_a_few_transactions_and_each_answered(
        world: World) -> None:
    voters = [User(f"U0LID{n:03d}", f"lid{n}") for n in range(PRESSES)]
    for n, user in enumerate(voters):
        world.fake.add_user(user.id, f"Lid {n}")
        await add_member(world.bot, f"Lid {n}", user_id=user.id, platform="slack")
    await world.bot.dispatcher.dispatch(FormSubmission("stemming.form", VOTE, COORDINATOR, channel=PROPOSALS))
    [message] = await posted(world, 1)
    buttons = {e["text"]["text"]: e for b in message["blocks"] if b["type"] == "actions"
               for e in b["elements"]}
    commits = BallotCommits(world.bot)
    groups = grouped(world.bot)

    answers = await asyncio.gather(*(
        world.slack.press(buttons["voor" if n % 4 else "tegen"], user, channel=PROPOSALS,
                          response_url=world.fake.response_url(user.id)) for n, user in enumerate(voters)))

    assert [a.status for a in answers] == [200] * PRESSES
    private = await world.fake.wait_for_responses(PRESSES)  # every member hears their own ballot
    heard = {r.name: json.dumps(r.body, ensure_ascii=False) for r in private}
    assert all(f"Je stem: {'voor' if n % 4 else 'tegen'}." in heard[user.id] for n, user in enumerate(voters))
    counted = await ballots(world.bot)
    assert sorted(counted.values()) == sorted(0 if n % 4 else 1 for n in range(PRESSES))
    # one transaction per press would be 40 commits; grouped, the presses waiting while a group is handled
    # are the next group: on SQLite, while acks are being given, at most 10 (each holds the writer the next
    # ack's row waits for)
    sqlite = world.bot.db.dialect == "sqlite"
    assert 1 <= commits.count <= PRESSES // (2 if sqlite else 4), commits.count
    assert max(groups) == (GROUP_ACKING if sqlite else max(groups)) and sum(groups) == PRESSES, groups


def grouped(bot: Bot) -> list[int]:
    """The sizes of the groups the inbox hands to the dispatcher, as they come."""
    sizes: list[int] = []
    together = bot.dispatch_kept_together

    async def counted(inputs: list[Kept]) -> list[Outcome]:
        sizes.append(len(inputs))
        return await together(inputs)

    bot.dispatch_kept_together = counted  # type: ignore[method-assign,assignment]
    return sizes


async def test_without_acks_waiting_the_inbox_hands_over_larger_groups(world: World) -> None:
    """Leftovers after a start, say: no ack waits for SQLite's writer, so a group may hold 25 inputs."""
    await world.bot.dispatcher.dispatch(FormSubmission("stemming.form", VOTE, COORDINATOR, channel=PROPOSALS))
    groups = grouped(world.bot)
    presses = [Action("stemming.stem", f"1:{n % 2}", Actor("slack", f"U0LID{n:03d}", f"lid{n}"), channel=PROPOSALS,
                      delivery_id=f"left{n}") for n in range(PRESSES)]

    await asyncio.gather(*(world.adapter.inbox.handle([press], world.bot.dispatch_kept_together)
                           for press in presses))

    assert sum(groups) == PRESSES and max(groups) > GROUP_ACKING, groups
    assert len(await ballots(world.bot)) == PRESSES


async def test_a_group_counts_the_last_press_answers_a_failing_one_alone_and_is_never_handled_twice(
        bot: Bot) -> None:
    await bot.dispatcher.dispatch(FormSubmission("stemming.form", VOTE, COORDINATOR, channel=PROPOSALS))
    anna, bert = Actor("slack", "U0ANNA", "anna"), Actor("slack", "U0BERT", "bert")
    now = bot.clock.now()

    def press(who: Actor, value: str, key: str, seconds: int) -> Action:
        return Action("stemming.stem", value, who, channel=PROPOSALS, delivery_id=key,
                      pressed_at=now - timedelta(seconds=60 - seconds))

    group = [press(anna, "1:0", "a1", 1), press(bert, "1:9", "b1", 2),  # option 9 does not exist
             press(bert, "1:1", "b2", 3), press(anna, "1:1", "a2", 4)]

    outcomes = await bot.dispatch_kept_together([*group, group[0]])  # a1 twice: a replayed request kept twice

    assert outcomes[4] is None  # the same delivery once, also within one group
    outcomes = outcomes[:4]

    assert all(isinstance(o, Reply) for o in outcomes)
    texts = [text_of(o) for o in outcomes]
    assert texts[0].startswith("Je stem: voor.") and texts[2].startswith("Je stem: tegen.")
    assert texts[1] == "! Deze knop werkt niet meer. Vraag de lijst opnieuw op."  # alone: the others count
    assert texts[3].startswith("Je stem: tegen.")  # anna's last press counts
    assert sorted((await ballots(bot)).values()) == [1, 1]
    assert await bot.dispatch_kept_together(group) == [None] * 4  # handled before: skipped, not doubled
    assert sorted((await ballots(bot)).values()) == [1, 1]
