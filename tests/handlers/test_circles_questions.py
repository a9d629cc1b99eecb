"""The question detector of the circles feature: which channel messages ask for help, and whom the bot
offers in the thread. Against real databases (SQLite and PostgreSQL), and on the labelled set that
bench/questions.py measures too.
"""

from __future__ import annotations

import pytest

from bench.questions import PRECISION_GOAL, RECALL_GOAL, load_directory, load_messages, measure
from bot.app import Bot
from handlers.circles.questions import Experts, QuestionDetector, is_help_question
from handlers.expertise import ExpertiseSearch, load_synonyms
from storage.records import Holder, MemberRecord
from tests.support import add_expertise, add_member, add_organisation

ASKING = [
    "Wie weet iets van thuiszitters?",
    "wie weet iets van thuiszitters",  # no question mark, no capital
    "Heeft iemand ervaring met een groeiklas?",
    "Hoi allemaal, weet iemand hoe je een terugkeerplan opstelt?",
    "Iemand ervaring met dyslexie in groep 3",
    "Zijn er mensen die ervaring hebben met een plusklas?",
    "Kan iemand mij helpen met een leerling met faalangst?",
    "Tips voor een leerling met ADHD?",
    "Ik zoek iemand die veel weet van autisme",
    "Hoe pakken jullie schoolweigering aan?",
    "Wie heeft er kaas gegeten van executieve functies?",
    "Dank voor je bericht! Heeft iemand ook tips voor rekenen?",  # thanks, then a question
]
NOT_ASKING = [
    "Wie neemt de koffie mee?",
    "Hoe laat begint het overleg?",
    "Gisteren een mooi gesprek over thuiszitters gehad",
    "Dank voor de tips over dyslexie!",
    "Vergeet niet: dinsdag verdieping over gedrag",
    "Heeft iemand de notulen van het overleg over gedrag?",
    "Wie kent het niet: een klas vol gedragsproblemen",
    "Weet iemand hoe laat de verdieping over NT2 begint?",
    "Sandra vroeg of iemand ervaring had met schoolweigering.",
    "Ik heb veel ervaring met autisme, stuur me gerust een bericht.",
    "Wie weet wordt het volgend jaar beter.",
    "Tips voor dyslexie staan op het intranet.",  # "tips voor" asks only as a question
    "/expertise gedrag",  # a command is not a message to the channel
    "> Wie weet iets van thuiszitters?",  # a quote of someone else's question
]


@pytest.mark.parametrize("text", ASKING)
def test_a_request_for_help_is_recognised_with_or_without_question_mark(text: str) -> None:
    assert is_help_question(text)


@pytest.mark.parametrize("text", NOT_ASKING)
def test_chatter_thanks_announcements_and_logistics_are_not_requests_for_help(text: str) -> None:
    assert not is_help_question(text)


# -- against a database ---------------------------------------------------------------------------------


async def network(bot: Bot) -> dict[str, Holder]:
    """Four members who know about gedrag (one more than an answer shows), two about thuiszitters, and
    organisations with the same topics, which are never offered."""
    cjg = await add_organisation(bot, "CJG Alkmaar", kind="organisatie")
    sbo = await add_organisation(bot, "SBO De Vlindertuin", kind="sbo")
    school = await add_organisation(bot, "Baeken")
    people: dict[str, Holder] = {"CJG Alkmaar": cjg, "SBO De Vlindertuin": sbo}
    for name, topic, description in [
        ("Marieke Bakker", "thuiszitters", "Casusregie bij dreigend thuiszitten."),
        ("Sandra Hoekstra", "thuiszitters", "Schoolweigering; gezinsgerichte aanpak."),
        ("Els van Dijk", "gedrag", "Coaching bij gedragsvragen."),
        ("Sanne Mulder", "gedrag", "Wegwijs in gedrag gevolgd."),
        ("Ingrid Smit", "gedrag", "Handelingsgericht werken."),
        ("Joost Visser", "gedrag", "Organiseert ook de ouderavond."),
        ("Ruben Kok", "autisme", "Prikkelarme werkplekken."),
    ]:
        if name not in people:
            people[name] = await add_member(bot, name, organisation=school)
        await add_expertise(bot, people[name], topic, description)
    for organisation, topic in [(cjg, "thuiszitters"), (sbo, "gedrag"), (cjg, "opvoedondersteuning")]:
        await add_expertise(bot, organisation, topic, "Voor scholen in de regio.")
    return people


def detector(bot: Bot) -> QuestionDetector:
    return QuestionDetector(ExpertiseSearch(load_synonyms(bot.settings.synonyms_file)))


async def ask(bot: Bot, questions: QuestionDetector, text: str, asker: Holder | None = None,
              limit: int = 3) -> Experts | None:
    async with bot.db.transaction() as repos:
        return await questions.experts_for(repos, text, asker_id=asker.id if asker else None, limit=limit)


def names(experts: Experts | None) -> set[str]:
    assert experts is not None
    return {hit.holder.name for hit in experts.hits}


async def test_a_help_question_gets_the_members_who_registered_its_topic_never_an_organisation(bot: Bot) -> None:
    await network(bot)
    experts = await ask(bot, detector(bot), "Wie weet iets van thuiszitters?")
    assert experts is not None and experts.topic == "thuiszitters"
    assert names(experts) == {"Marieke Bakker", "Sandra Hoekstra"}
    assert all(isinstance(hit.holder, MemberRecord) for hit in experts.hits)


async def test_a_synonym_and_a_compound_find_the_topic_they_mean(bot: Bot) -> None:
    await network(bot)
    questions = detector(bot)
    verzuim = await ask(bot, questions, "Heeft iemand ervaring met verzuim")  # ~ thuiszitters (synonym list)
    assert verzuim is not None and verzuim.topic == "thuiszitters"
    assert names(verzuim) == {"Marieke Bakker", "Sandra Hoekstra"}
    compound = await ask(bot, questions, "Kan iemand meedenken over gedragsproblemen in groep 7?")  # → gedrag
    assert compound is not None and compound.topic == "gedrag"
    assert names(compound) <= {"Els van Dijk", "Sanne Mulder", "Ingrid Smit", "Joost Visser"}


async def test_at_most_three_members_and_never_the_asker(bot: Bot) -> None:
    people = await network(bot)
    questions = detector(bot)
    everyone = await ask(bot, questions, "Wie heeft tips over gedrag?")
    assert everyone is not None and len(everyone.hits) == 3
    assert names(everyone) <= {"Els van Dijk", "Sanne Mulder", "Ingrid Smit", "Joost Visser"}
    for asker in ("Els van Dijk", "Sanne Mulder", "Ingrid Smit", "Joost Visser"):
        experts = await ask(bot, questions, "Wie heeft tips over gedrag?", asker=people[asker])
        assert experts is not None and len(experts.hits) == 3 and asker not in names(experts)
    one = await ask(bot, questions, "Wie heeft tips over gedrag?", limit=1)
    assert one is not None and len(one.hits) == 1


async def test_nothing_for_chatter_a_topic_nobody_has_or_only_the_asker_or_an_organisation_has(bot: Bot) -> None:
    people = await network(bot)
    questions = detector(bot)
    for text in ["Wie neemt de koffie mee?", "Gisteren een mooi gesprek over thuiszitters gehad.",
                 "Dank voor de tips over gedrag!", "Wie weet iets van voetbaltraining?",
                 "Wie weet iets van de ouderavond?",  # only a word in a description, no topic
                 "Heeft iemand ervaring met opvoedondersteuning?"]:  # only an organisation has it
        assert await ask(bot, questions, text) is None, text
    assert await ask(bot, questions, "Wie weet iets van autisme?", asker=people["Ruben Kok"]) is None
    assert names(await ask(bot, questions, "Wie weet iets van autisme?")) == {"Ruben Kok"}


async def test_a_topic_registered_after_a_question_is_found_by_the_next_one(bot: Bot) -> None:
    await network(bot)
    questions = detector(bot)
    assert await ask(bot, questions, "Heeft iemand ervaring met logopedie?") is None
    await add_expertise(bot, await add_member(bot, "Lotte de Boer"), "logopedie", "")
    experts = await ask(bot, questions, "Heeft iemand ervaring met logopedie?")
    assert experts is not None and experts.topic == "logopedie" and names(experts) == {"Lotte de Boer"}


async def test_the_labelled_set_meets_its_goals_on_the_tuned_part(bot: Bot) -> None:
    messages, extra = load_messages()
    ids = await load_directory(bot.db, extra)
    scores = await measure(bot.db, detector(bot), messages, ids)
    tuned = scores["tuned"]
    assert tuned.precision >= PRECISION_GOAL, tuned.false_alarms
    assert tuned.recall >= RECALL_GOAL, tuned.misses


async def test_a_common_word_names_no_compound_topic_it_starts(bot: Bot) -> None:
    """"school" is in every other message; it must not name the topic schoolweigering, alone or next to
    another word (the phrases of words in a row are expanded too)."""
    member = await add_member(bot, "Hans de Vries")
    await add_expertise(bot, member, "schoolweigering", "")
    questions = detector(bot)
    for text in ["Heeft iemand ervaring met een nieuwe school?", "Wie weet iets van school?"]:
        assert await ask(bot, questions, text) is None, text
    assert names(await ask(bot, questions, "Wie weet iets van schoolweigering?")) == {"Hans de Vries"}


async def test_a_short_word_one_letter_off_a_topic_is_another_word_but_a_swap_is_a_typo(bot: Bot) -> None:
    """/expertise corrects "tekenen" to "rekenen", as a query someone typed on purpose; in chat it is a word."""
    await add_expertise(bot, await add_member(bot, "Joost Visser"), "rekenen", "")
    await add_expertise(bot, await add_member(bot, "Els van Dijk"), "gedrag", "")
    questions = detector(bot)
    assert await ask(bot, questions, "Kan iemand mij helpen met tekenen?") is None
    assert names(await ask(bot, questions, "Kan iemand mij helpen met rekenen?")) == {"Joost Visser"}
    assert names(await ask(bot, questions, "Heeft iemand ervaring met gedarg?")) == {"Els van Dijk"}
