"""Over signed Slack HTTP: whose first input waits for their Slack profile (users.info), and whose does not.

A person the bot does not know yet, or knows only by a login handle, is named by Slack before their answer; a
member already named (imported from the cooperation's list with their Slack account) is answered at once, and
their profile is fetched and stored after the answer."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.adapters import base
from bot.core.clock import ManualClock
from tests.adapters.test_slack_e2e import World, running
from tests.fake_slack import User
from tests.support import add_expertise, add_member

IMPORTED = User("U0IMPORT", "fleur.b")
NEWCOMER = User("U0NIEUW", "gijs.d")


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[World]:
    async with running(sqlite_url, clock, ack_budget_seconds=1.0) as w:
        w.fake.add_user(IMPORTED.id, "Fleur de Boer", title="Intern begeleider")
        w.fake.add_user(NEWCOMER.id, "Gijs Dekker")
        yield w


async def member_of(w: World, user_id: str) -> tuple[str, str] | None:
    async with w.bot.db.transaction() as repos:
        member = await repos.members.by_identity("slack", user_id)
    return (member.name, member.title) if member else None


async def test_an_imported_member_is_answered_without_waiting_for_slack(world: World) -> None:
    await add_member(world.bot, "Fleur Boer", user_id=IMPORTED.id, platform="slack")
    lookup = world.fake.hold("users.info")  # Slack does not answer the profile look-up for now

    answer = await world.slack.command("/netwerkbot", "profiel", IMPORTED)

    assert answer.status == 200 and "Fleur Boer" in str(answer.json)  # the answer itself, not "even geduld"
    lookup.set()
    await world.fake.wait_for_calls("users.info")
    await world.adapter.drain()
    assert await member_of(world, IMPORTED.id) == ("Fleur de Boer", "Intern begeleider")  # stored after it
    assert len(world.fake.ok_calls("users.info")) == 1


async def test_the_look_up_after_an_answer_waits_until_the_answer_has_left(world: World,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Started at once, the look-up's work took the CPU from whoever carried the answer out (bench/README.md)."""
    monkeypatch.setattr(base, "PROFILES_AFTER_ANSWER_SECONDS", 1.0)  # (long here, so that it shows)
    await add_member(world.bot, "Fleur Boer", user_id=IMPORTED.id, platform="slack")

    answer = await world.slack.command("/netwerkbot", "profiel", IMPORTED)
    answered = time.monotonic()
    await world.fake.wait_for_calls("users.info")

    assert answer.status == 200 and time.monotonic() - answered >= 0.5
    await world.adapter.drain()
    assert await member_of(world, IMPORTED.id) == ("Fleur de Boer", "Intern begeleider")  # stored after it


async def test_a_newcomer_is_named_by_slack_before_the_first_answer(world: World) -> None:
    answer = await world.slack.command("/netwerkbot", "profiel", NEWCOMER)

    assert answer.status == 200 and "Gijs Dekker" in str(answer.json) and "gijs.d" not in str(answer.json)
    await world.adapter.drain()
    assert len(world.fake.ok_calls("users.info")) == 1  # once, not again after the answer


async def test_a_newcomer_s_search_is_answered_without_waiting_for_slack_and_named_by_slack_after(
        world: World) -> None:
    """A search needs nothing of who asks: a newcomer's first one is answered at once (issue 19, item 1: a first
    contact waited for users.info), with nothing stored of them until Slack has named them."""
    els = await add_member(world.bot, "Els van Dijk", user_id="U0ELS", platform="slack")
    await add_expertise(world.bot, els, "gedrag", "Time-out plekken in de klas")
    lookup = world.fake.hold("users.info")

    answer = await world.slack.command("/expertise", "gedrag", NEWCOMER)

    assert answer.status == 200 and "Els van Dijk" in str(answer.json) and "Stuur bericht" in str(answer.json)
    assert await member_of(world, NEWCOMER.id) is None  # not stored under the login handle meanwhile
    lookup.set()
    await world.fake.wait_for_calls("users.info")
    await world.adapter.drain()
    assert await member_of(world, NEWCOMER.id) == ("Gijs Dekker", "")
    looked_up: list[int] = []
    refresh = world.bot.refresh_profiles

    async def counted(actors: Any, fetch: Any, *, new_only: bool = False) -> set[str]:
        looked_up.append(len(actors))
        return await refresh(actors, fetch, new_only=new_only)

    world.bot.refresh_profiles = counted  # type: ignore[method-assign]
    again = await world.slack.command("/netwerkbot", "profiel", NEWCOMER)
    assert "Gijs Dekker" in str(again.json) and len(world.fake.ok_calls("users.info")) == 1
    assert looked_up == []  # named by that refresh: not looked up again before their next input


async def test_a_newcomer_s_first_entry_waits_for_slack_to_name_them(world: World) -> None:
    """What stores something of who acts is no question: the newcomer is named by Slack before it is handled."""
    answer = await world.slack.command("/expertise", "toevoegen gedrag", NEWCOMER)

    assert answer.status == 200 and len(world.fake.ok_calls("users.info")) == 1
    assert await member_of(world, NEWCOMER.id) == ("Gijs Dekker", "")
    mine = await world.slack.command("/expertise", "mijn", NEWCOMER)
    assert "gedrag" in str(mine.json)


async def test_a_member_named_only_by_a_login_handle_is_named_by_slack_before_the_answer(world: World) -> None:
    await add_member(world.bot, NEWCOMER.name, user_id=NEWCOMER.id, platform="slack")  # an earlier look-up failed

    answer = await world.slack.command("/netwerkbot", "profiel", NEWCOMER)

    assert answer.status == 200 and "Gijs Dekker" in str(answer.json)


async def test_profiles_due_after_answers_are_refreshed_in_one_batch_at_a_time(world: World) -> None:
    """While Slack is slow to tell one profile, the others due meanwhile wait for one batch (one read and one
    write for all of them) instead of each running its own transactions beside the next answers."""
    people = [User(f"U0LID{n}", f"lid.{n}") for n in range(4)]
    for n, person in enumerate(people):
        await add_member(world.bot, f"Lid {n}", user_id=person.id, platform="slack")
        world.fake.add_user(person.id, f"Lid {n} van Slack")
    batches: list[int] = []
    refresh = world.bot.refresh_profiles

    async def counted(actors: Any, fetch: Any, *, new_only: bool = False) -> set[str]:
        if not new_only:
            batches.append(len(actors))
        return await refresh(actors, fetch, new_only=new_only)

    world.bot.refresh_profiles = counted  # type: ignore[method-assign]
    lookup = world.fake.hold("users.info")
    for person in people:
        assert (await world.slack.command("/expertise", "gedrag", person)).status == 200
    lookup.set()
    await world.adapter.drain()

    assert batches == [1, 3]  # the first alone, the three that came while it waited together
    for n, person in enumerate(people):
        assert await member_of(world, person.id) == (f"Lid {n} van Slack", "")
