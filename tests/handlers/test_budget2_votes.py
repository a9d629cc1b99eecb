"""Richer `/stemming` votes through the dispatcher (as in the terminal): several choices with a maximum,
and a ranking decided by instant-runoff with its rounds in the result."""

from __future__ import annotations

from bot.app import Bot
from bot.core.clock import ManualClock
from bot.core.reply import FieldKind, Form, FormRejected, reply_from_json
from handlers.proposals.ballots import instant_runoff
from tests.handlers.test_proposals import COORD, FRIDAY, VOTE, buttons, network, outbox
from tests.support import press, run, submit, text_of

A, B, C, D = 0, 1, 2, 3


def test_instant_runoff_by_hand() -> None:
    """10 ballots: 4 A>B, 3 B>A, 2 C>B, 1 D>C. Round 1: A 4, B 3, C 2, D 1; nobody has more than half (5);
    C and D together (3) cannot pass B (3), so both drop out at once. Round 2: C's two ballots go to B,
    D's ballot has no choice left (C is out): A 4, B 5 of the 9 ballots still counting: B wins, although
    A led the first round."""
    ballots = [[A, B]] * 4 + [[B, A]] * 3 + [[C, B]] * 2 + [[D, C]]
    winner, rounds = instant_runoff(["A", "B", "C", "D"], ballots)
    assert winner == B
    assert rounds == [{"votes": {"0": 4, "1": 3, "2": 2, "3": 1}, "out": [C, D]},
                      {"votes": {"0": 4, "1": 5}, "out": []}]


def test_instant_runoff_a_tie_in_the_last_round_is_no_decision_and_abstention_never_counts() -> None:
    winner, rounds = instant_runoff(["A", "B", "onthouding"], [[A, 2], [B], [2, A], [A]])
    assert winner == A and rounds[0]["votes"] == {"0": 3, "1": 1}  # the abstention is no option: 2>A counts for A
    winner, _ = instant_runoff(["A", "B"], [[A], [B]])
    assert winner is None
    assert instant_runoff(["A", "B"], []) == (None, [])


async def test_several_choices_with_a_maximum(bot: Bot, clock: ManualClock) -> None:
    """On SQLite and PostgreSQL."""
    sqlite_bot = bot
    people = await network(sqlite_bot)
    values = VOTE | {"question": "Welke thema's dit jaar?", "options": "gedrag, dyslexie, groeiklas",
                     "electorate": "members", "kind": "multiple", "max": "2"}
    bad = await submit(sqlite_bot, "stemming.form", values | {"max": "5"}, COORD)
    assert isinstance(bad, FormRejected) and set(bad.errors) == {"max"}
    await submit(sqlite_bot, "stemming.form", values, COORD)
    message = reply_from_json((await outbox(sqlite_bot))[-1].body)
    assert "meerdere keuzes (ten hoogste 2)" in text_of(message)
    action, value = buttons(message)["Stemmen"]
    form = await press(sqlite_bot, action, value, people["ingrid"])
    assert isinstance(form, Form) and form.fields[0].kind is FieldKind.MULTI_CHOICE
    assert [c.label for c in form.fields[0].choices] == ["gedrag", "dyslexie", "groeiklas"]

    too_many = await submit(sqlite_bot, "stemming.stembiljet", {"options": "0,1,2"}, people["ingrid"], state="1")
    assert isinstance(too_many, FormRejected) and "ten hoogste 2" in too_many.errors["options"]
    answer = await submit(sqlite_bot, "stemming.stembiljet", {"options": "0,2"}, people["ingrid"], state="1")
    assert "Je stem: gedrag, groeiklas." in text_of(answer)
    again = await press(sqlite_bot, action, value, people["ingrid"])
    assert isinstance(again, Form) and again.fields[0].initial == "0,2"  # the current ballot, to change
    await submit(sqlite_bot, "stemming.stembiljet", {"options": "2"}, people["thomas"], state="1")
    await submit(sqlite_bot, "stemming.stembiljet", {"options": "1"}, people["piet"], state="1")
    shown = text_of(await run(sqlite_bot, "/stemming 1", people["piet"]))
    assert "3 stemmen uitgebracht — gedrag: 1 · dyslexie: 1 · groeiklas: 2" in shown
    clock.set(FRIDAY)
    assert await sqlite_bot.scheduler.run_due() >= 1
    result = text_of(reply_from_json((await outbox(sqlite_bot))[-1].body))
    assert "• gedrag: 1" in result and "• dyslexie: 1" in result and "• groeiklas: 2" in result
    assert "Opkomst: 3 van" in result and "Besluit: groeiklas." in result


async def test_a_ranking_is_decided_by_instant_runoff_with_its_rounds_shown(sqlite_bot: Bot,
                                                                            clock: ManualClock) -> None:
    people = await network(sqlite_bot)
    values = VOTE | {"question": "Waar beginnen we?", "options": "gedrag, dyslexie, groeiklas",
                     "electorate": "members", "kind": "ranked"}
    await submit(sqlite_bot, "stemming.form", values, COORD)
    message = reply_from_json((await outbox(sqlite_bot))[-1].body)
    action, value = buttons(message)["Stemmen"]
    form = await press(sqlite_bot, action, value, people["ingrid"])
    assert isinstance(form, Form) and [f.name for f in form.fields] == ["rank1", "rank2", "rank3"]
    assert all(f.kind is FieldKind.CHOICE for f in form.fields) and form.fields[0].required
    twice = await submit(sqlite_bot, "stemming.stembiljet", {"rank1": "0", "rank2": "0"}, people["ingrid"],
                         state="1")
    assert isinstance(twice, FormRejected) and set(twice.errors) == {"rank2"}
    # gedrag 2 first choices, dyslexie 2, groeiklas 1: groeiklas drops out, its ballot goes to dyslexie
    for name, ranking in (("ingrid", ("0", "1")), ("bart", ("0",)), ("thomas", ("1", "0")), ("vera", ("1",)),
                          ("piet", ("2", "1"))):
        answer = await submit(sqlite_bot, "stemming.stembiljet", dict(zip(("rank1", "rank2"), ranking, strict=False)),
                              people[name], state="1")
        assert "Je stem:" in text_of(answer)
    again = await press(sqlite_bot, action, value, people["piet"])
    assert isinstance(again, Form) and [f.initial for f in again.fields] == ["2", "1", ""]
    clock.set(FRIDAY)
    assert await sqlite_bot.scheduler.run_due() >= 1
    result = text_of(reply_from_json((await outbox(sqlite_bot))[-1].body))
    assert "Ronde 1" in result and "gedrag: 2 · dyslexie: 2 · groeiklas: 1 — valt af: groeiklas" in result
    assert "Ronde 2" in result and "gedrag: 2 · dyslexie: 3" in result
    assert "Besluit: dyslexie." in result and "instant-runoff" in result
