"""Numbers nobody's row can have, and digits that are no digits, get a Dutch answer and change nothing.

Found by an outside test: `/stemming 99999999999999999999` overflowed SQLite's integer, anything from
2147483648 on was "out of range" on PostgreSQL, and `/overleg schrappen ²` broke `int()`. Every command,
button and form that reads the number of a thing goes through one reader (bot/core/numbers.py); these
tests run on both databases.
"""

from __future__ import annotations

import pytest

from bot.app import Bot
from bot.core.inputs import FormSubmission
from bot.core.numbers import MAX_ID, id_of, number_of
from bot.core.reply import FormRejected
from tests.handlers.test_proposals import COORD, PITCH, VOTE, network, outbox, pitch_and_vote
from tests.support import press, run, submit, text_of

HUGE = "99999999999999999999"  # beyond SQLite's 64-bit integer
BEYOND = str(MAX_ID + 1)  # 2147483648: beyond PostgreSQL's integer
APOLOGY = "er ging iets mis"


def test_only_plain_digits_are_a_number_and_only_some_numbers_an_id() -> None:
    assert [number_of(t) for t in ("3", "#3", " # 12 ", "²", "٣", "３", "-1", "1e3", "", "#")] == \
        [3, 3, 12, None, None, None, None, None, None, None]
    assert number_of(HUGE) == int(HUGE)
    assert [id_of(t) for t in ("1", str(MAX_ID), BEYOND, HUGE, "0", "²")] == [1, MAX_ID, None, None, None, None]


@pytest.mark.parametrize(("command", "expected"), [
    (f"/stemming {HUGE}", f"Stemming {HUGE} bestaat niet."),
    (f"/stemming #{BEYOND}", f"Stemming {BEYOND} bestaat niet."),
    (f"/stemming sluiten {HUGE}", f"Stemming {HUGE} bestaat niet."),
    (f"/stemming export {BEYOND}", f"Stemming {BEYOND} bestaat niet."),
    ("/stemming sluiten ²", "Welke stemming? Schrijf het nummer erbij"),
    ("/stemming ²", "Stemming 2 bestaat niet."),  # folded, as every command word is
    (f"/pitch {HUGE}", f"Pitch {HUGE} bestaat niet."),
    (f"/pitch wijzigen {BEYOND}", f"Pitch {BEYOND} bestaat niet."),
    (f"/pitch intrekken {HUGE}", f"Pitch {HUGE} bestaat niet."),
    ("/pitch wijzigen ³", "Welke pitch? Schrijf het nummer erbij"),
    (f"/overleg schrappen {HUGE}", f"Agendapunt {HUGE} bestaat niet (meer)."),
    (f"/overleg schrappen {BEYOND}", f"Agendapunt {BEYOND} bestaat niet (meer)."),
    ("/overleg schrappen ²", "Welk agendapunt? Schrijf het nummer erbij"),
    (f"/idee {HUGE}", f"Ik ken geen idee {HUGE}."),
    (f"/idee #{BEYOND}", f"Ik ken geen idee {BEYOND}."),
])
async def test_a_number_no_row_can_have_is_not_there(bot: Bot, command: str, expected: str) -> None:
    people = await network(bot)
    await pitch_and_vote(bot, people)  # pitch 1 and vote 1 exist: the numbers are looked for, not missed
    before = len(await outbox(bot))

    answer = text_of(await run(bot, command, COORD))

    assert expected in answer and APOLOGY not in answer
    assert len(await outbox(bot)) == before


@pytest.mark.parametrize(("action_id", "value"), [
    ("stemming.stem", f"{HUGE}:0"), ("stemming.stem", f"{BEYOND}:0"), ("stemming.stem", "1:²"),
    ("stemming.stem", f"1:{HUGE}"), ("stemming.voor_pitch", BEYOND), ("stemming.voor_pitch", "²"),
    ("pitch.agenderen", HUGE), ("overleg.schrappen", BEYOND), ("expertise.confirm", HUGE),
    ("expertise.contact", f"{BEYOND}\tgedrag"), ("expertise.page", f"{HUGE}\tgedrag"),
    ("expertise.overview", "²"), ("idee.oppakken", HUGE), ("idee.thema", f"{BEYOND}\tgedrag"),
])
async def test_a_button_with_an_impossible_number_is_answered(bot: Bot, action_id: str, value: str) -> None:
    people = await network(bot)
    await pitch_and_vote(bot, people)
    answer = await press(bot, action_id, value, COORD)
    assert answer is not None and APOLOGY not in text_of(answer)


async def test_a_vote_form_naming_a_pitch_that_is_not_there_is_explained(bot: Bot) -> None:
    await network(bot)
    for state in ("7", BEYOND, HUGE, "²"):
        answer = text_of(await bot.dispatcher.dispatch(FormSubmission("stemming.form", VOTE, COORD, state=state)))
        assert "hoort bij een pitch die niet (meer) bestaat" in answer, answer
    for channel in ("C0\x00X", "C" * 300):  # where the form was opened, as the payload says: stored with the vote
        answer = text_of(await bot.dispatcher.dispatch(FormSubmission("stemming.form", VOTE, COORD, channel=channel)))
        assert "Deze knop werkt niet meer" in answer
    assert "nog geen stemmingen" in text_of(await run(bot, "/stemming lijst", COORD))


async def test_form_fields_are_cleaned_on_every_path(bot: Bot) -> None:
    """A NUL byte (which PostgreSQL refuses in text) or a superscript number gets the field's own message."""
    await network(bot)
    refused = await submit(bot, "stemming.form", VOTE | {"werkgebied": "Alkmaar\x00Noord", "quorum": "²",
                                                         "threshold": HUGE, "deadline": "vrijdag\x0017:00"}, COORD)
    assert isinstance(refused, FormRejected)
    assert "stuurtekens" in refused.errors["werkgebied"] and "stuurtekens" in refused.errors["deadline"]
    assert {"quorum", "threshold"} <= refused.errors.keys()
    settings = await submit(bot, "overleg.instellen", {
        "title": "Consulentenoverleg", "weekday": "dinsdag", "time": "09:00-11:30", "interval": "²",
        "types": "afstemming, verdieping\x00", "anchor": "", "region": "noord", "alternation": ""}, COORD,
        state="consulenten")
    assert isinstance(settings, FormRejected), text_of(settings)
    assert "1 tot 52" in settings.errors["interval"] and "stuurtekens" in settings.errors["types"]
    pitch = await submit(bot, "pitch.form", PITCH | {"amount": "€ 25.000.000"}, COORD)
    assert isinstance(pitch, FormRejected) and "amount" in pitch.errors
    assert len(await outbox(bot)) == 0
