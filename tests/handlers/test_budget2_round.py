"""A ranked budget round, a round of one circle, and the round's message kept current (through the
dispatcher, as in the terminal); the ranked allocation and its Pabulib export (vote_type ordinal)."""

from __future__ import annotations

from pabutools.election.pabulib import parse_pabulib_from_string

from bot.app import Bot
from bot.contexts import TimeContext
from bot.core.clock import ManualClock
from bot.core.reply import Actions, FieldKind, File, Form, FormRejected, Reply, reply_from_json
from handlers.budget.allocation import allocate
from handlers.budget.outputs import RoundPitch, pabulib
from tests.handlers.test_budget_round import FRIDAY
from tests.handlers.test_proposals import COORD, PITCH, outbox
from tests.support import actor, add_member, add_organisation, press, run, submit, text_of

A, B, C = 1, 2, 3
COSTS = {A: 60_00, B: 40_00, C: 40_00}


def test_the_order_on_a_ranked_ballot_decides_by_hand() -> None:
    """Budget € 100, 10 voters (a share of € 10 each). Six rank A before B, four rank only C. A pitch is worth
    3 to a voter who ranks it first (3 pitches), 2 second. Equal Shares: per point of worth, A costs its six
    supporters € 60 / 18, B € 40 / 12, C € 40 / 12: the same, so A goes first on its number; its
    supporters pay € 10 each, so B no longer fits, C does: A and C. With the six ranking B first, B is
    cheapest per point (€ 40 / 18) and is funded first; A (€ 60 / 12) then cannot be paid from the € 3,33
    each has left: B and C, € 20 left, as A does not fit in it. Approval ballots cannot tell these apart."""
    first = allocate(100_00, COSTS, [[A, B]] * 6 + [[C]] * 4, ranked=True)
    second = allocate(100_00, COSTS, [[B, A]] * 6 + [[C]] * 4, ranked=True)
    assert first.funded == (A, C) and second.funded == (B, C) and second.spent == 80_00
    assert first.greedy == second.greedy == (A, B)  # greedy: most support first, order plays no part
    assert allocate(100_00, COSTS, [{A, B}] * 6 + [{C}] * 4).funded == (A, C)


def test_a_ranked_export_is_ordinal_and_keeps_the_order() -> None:
    pitches = [RoundPitch(p, f"Pitch {p}", cost) for p, cost in COSTS.items()]
    file = pabulib(4, 100_00, pitches, [("s:1", (B, A)), ("s:2", (C,))], secret=True, ranked=True)
    text = file.data.decode()
    assert "vote_type;ordinal" in text
    _, profile = parse_pabulib_from_string(text)
    assert sorted([int(p.name) for p in ballot] for ballot in profile) == [[B, A], [C]]


async def test_a_ranked_round_of_one_circle_with_its_message_kept_current(bot: Bot, clock: ManualClock) -> None:
    """On SQLite and PostgreSQL."""
    school = await add_organisation(bot, "Baeken")
    await add_organisation(bot, "Vlieger")
    for name in ("ingrid", "thomas", "piet"):
        await add_member(bot, name.title(), user_id=name, organisation=school)
    await add_member(bot, "Marieke", user_id="coord")
    async with bot.db.transaction() as repos:  # the inner circle's channel: Ingrid and Thomas
        await repos.circles.replace("inner_circle", "console", ["ingrid", "thomas"], clock.now())
    for title, amount in (("Groeiklas", "€ 50"), ("Gedrag", "€ 40"), ("Thuiszitters", "€ 50")):
        await submit(bot, "pitch.form", PITCH | {"title": title, "amount": amount}, actor("ingrid"))
    form = await run(bot, "/stemming begroting", COORD)
    assert isinstance(form, Form) and {"kind", "circle"} <= {f.name for f in form.fields}
    values = {"budget": "€ 100", "pitches": "1, 2, 3", "electorate": "members", "werkgebied": "",
              "circle": "inner_circle", "kind": "ranked", "secret": "ja", "deadline": "vrijdag 17:00"}
    await submit(bot, "begroting.form", values, COORD)
    message = reply_from_json((await outbox(bot))[-1].body)
    assert "rangorde" in text_of(message) and "0 stemmen uitgebracht" in text_of(message)
    [row] = [p for p in message.parts if isinstance(p, Actions)]
    button = row.buttons[0]

    refused = await press(bot, button.action_id, button.value, actor("piet"))
    assert "niet in hun kanaal" in text_of(refused)  # Piet is not in the inner circle
    ballot = await press(bot, button.action_id, button.value, actor("thomas"))
    assert isinstance(ballot, Form) and [f.name for f in ballot.fields] == ["rank1", "rank2", "rank3"]
    assert all(f.kind is FieldKind.CHOICE for f in ballot.fields)
    twice = await submit(bot, "begroting.stembiljet", {"rank1": "2", "rank2": "2"}, actor("thomas"), state="1")
    assert isinstance(twice, FormRejected)
    answer = await submit(bot, "begroting.stembiljet", {"rank1": "2", "rank2": "1"}, actor("thomas"), state="1")
    assert "Je steunt: #2 > #1." in text_of(answer)
    again = await press(bot, button.action_id, button.value, actor("thomas"))
    assert isinstance(again, Form) and [f.initial for f in again.fields] == ["2", "1", ""]
    await submit(bot, "begroting.stembiljet", {"rank1": "3"}, actor("ingrid"), state="1")

    # the round's message is kept current: a ballot marks it, and its renderer shows the ballots cast so far
    assert "budget:1" in bot.refresher._dirty
    render = bot.refresher.renderers["budget:"]
    async with bot.db.transaction() as repos:
        current = await render(TimeContext(repos, bot.catalog, clock.now(), bot.settings), "budget:1")
    assert current is not None and "2 stemmen uitgebracht" in text_of(current)

    clock.set(FRIDAY)
    assert await bot.scheduler.run_due() == 1
    result = text_of(reply_from_json((await outbox(bot))[-1].body)).replace("\xa0", " ")
    # a share of € 50 each; 3 pitches, so a first place is worth 3, a second 2. Thomas (2 > 1): #2 costs him
    # € 40 / 3 a point, #1 € 50 / 2: he pays #2 (€ 40) and has € 10 left, too little for #1. Ingrid (3)
    # pays #3. As approval ballots ({1, 2} and {3}) #1 and #2 would be level and #1 would go first
    assert "#2 Gedrag" in result and "€ 40,00 · steun: 1 van 2 · toegekend" in result
    assert "€ 50,00 · steun: 1 van 2 · niet toegekend" in result and "hoger op je biljet" in result
    assert "bij gelijke stand gaat het laagste pitchnummer voor" in result  # how a tie is broken, said
    assert "Toegekend: € 90,00 van € 100,00; over: € 10,00." in result
    export = await run(bot, "/stemming begroting export 1", COORD)
    assert isinstance(export, Reply)
    [file] = [p for p in export.parts if isinstance(p, File)]
    assert b"vote_type;ordinal" in file.data
