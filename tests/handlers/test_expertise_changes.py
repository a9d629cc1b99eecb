"""After a change, caches forget only what it touched (storage/changes.py, handlers/expertise/index.py),
and an answer is still never older than the database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text, update

from bot.app import Bot
from bot.core.clock import ManualClock
from handlers.expertise import ExpertiseSearch, load_synonyms
from handlers.expertise.index import Ranked
from storage.models import Member
from storage.repositories import MemberRepository
from tests.conftest import started_bot
from tests.handlers.test_expertise_search import load_corpus, register
from tests.support import actor, add_expertise, add_member, run, text_of


def searcher(bot: Bot) -> tuple[ExpertiseSearch, list[str]]:
    """A search whose cold rankings are counted: the queries it ranked anew, in order."""
    search = ExpertiseSearch(load_synonyms(bot.settings.synonyms_file))
    ranked: list[str] = []
    rank: Callable[..., Ranked] = search.index.rank

    def counted(weights: Any, groups: Any) -> Ranked:
        ranked.append(",".join(sorted(weights))[:40])
        return rank(weights, groups)

    search.index.rank = counted  # type: ignore[method-assign]
    return search, ranked


async def names(bot: Bot, search: ExpertiseSearch, query: str, limit: int = 8) -> list[str]:
    async with bot.db.transaction() as repos:
        page = await search.search(repos, query, limit=limit)
    return [hit.holder.name for hit in page.hits]


async def test_a_new_name_keeps_every_ranking_warm_and_shows_at_once(bot: Bot) -> None:
    """One member's new name (a first contact whose Slack name differs from the import) costs nobody
    a cold search: the unrelated query is answered from its cached page, the member's own query from
    its cached ranking, with the new name."""
    anna, bram = await add_member(bot, "Anna"), await add_member(bot, "Bram")
    await add_expertise(bot, anna, "gedrag")
    await add_expertise(bot, bram, "dyslexie")
    search, ranked = searcher(bot)
    assert await names(bot, search, "gedrag") == ["Anna"]
    assert await names(bot, search, "dyslexie") == ["Bram"]
    assert len(ranked) == 2
    async with bot.db.transaction() as repos:
        await repos.members.update(bram.id, name="Bram de Vries")
    assert await names(bot, search, "gedrag") == ["Anna"]
    assert await names(bot, search, "dyslexie") == ["Bram de Vries"]
    assert len(ranked) == 2  # neither ranked again


async def test_an_expertise_write_is_in_the_next_answer_and_spares_unrelated_queries(bot: Bot) -> None:
    anna, bram, carla = [await add_member(bot, n) for n in ("Anna", "Bram", "Carla")]
    await add_expertise(bot, anna, "gedrag")
    await add_expertise(bot, bram, "dyslexie")
    search, ranked = searcher(bot)
    assert await names(bot, search, "gedrag") == ["Anna"]
    assert await names(bot, search, "dyslexie") == ["Bram"]
    await add_expertise(bot, carla, "gedrag")  # a known term: the vocabulary stays
    assert sorted(await names(bot, search, "gedrag")) == ["Anna", "Carla"]
    assert await names(bot, search, "dyslexie") == ["Bram"]
    assert len(ranked) == 3  # gedrag again, dyslexie not
    async with bot.db.transaction() as repos:
        await repos.expertise.remove(anna, "gedrag")
    assert await names(bot, search, "gedrag") == ["Carla"]
    await add_expertise(bot, bram, "gedragsproblemen", "woordenschatonderwijs")  # new terms
    assert await names(bot, search, "gedrag") == ["Carla", "Bram"]  # the topic's own word first
    assert await names(bot, search, "woordenschatonderwijs") == ["Bram"]


async def test_a_member_renamed_elsewhere_is_read_again_and_the_others_are_not(
        bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dispatcher keeps members per account; a change forgets only the member it named."""
    for _ in range(2):  # a first contact makes the member; the next input keeps it
        await run(bot, "/netwerkbot profiel", actor("U1", name="anna"))
        await run(bot, "/netwerkbot profiel", actor("U2", name="bram"))
    looked_up: list[str] = []
    by_identity = MemberRepository.by_identity

    async def counted(self: MemberRepository, platform: str, user_id: str) -> Any:
        looked_up.append(user_id)
        return await by_identity(self, platform, user_id)

    monkeypatch.setattr(MemberRepository, "by_identity", counted)
    async with bot.db.transaction() as repos:
        member = await repos.members.by_identity("console", "U1")
        assert member is not None
        await repos.members.update(member.id, name="Anna Smit")
    looked_up.clear()
    await run(bot, "/netwerkbot profiel", actor("U2"))
    assert looked_up == []  # still known
    assert "Anna Smit" in text_of(await run(bot, "/netwerkbot profiel", actor("U1")))
    assert looked_up == ["U1"]


async def test_a_version_raised_without_saying_what_changed_forgets_everything(
        database_url: str, clock: ManualClock) -> None:
    """A raise of the version with no record of what it changed (pruned, or written by hand) makes every
    process forget all it holds, so even then no answer is older than the database."""
    async with started_bot(database_url, clock) as first:
        anna = await add_member(first, "Anna")
        await add_expertise(first, anna, "gedrag")
        search, ranked = searcher(first)
        assert await names(first, search, "gedrag") == ["Anna"]
        async with first.db.engine.begin() as connection:
            await connection.execute(update(Member).where(Member.id == anna.id).values(name="Anna Smit"))
            await connection.execute(text("UPDATE search_state SET version = version + 1"))
        assert await names(first, search, "gedrag") == ["Anna Smit"]
        assert len(ranked) == 2


async def test_the_ranking_in_memory_is_the_ranking_of_the_database(sqlite_bot: Bot) -> None:
    """Every labelled query: the same holders, in the same order, with the same scores."""
    corpus = load_corpus()
    await register(sqlite_bot, [(e["holder"], e["topic"], e["description"]) for e in corpus["entries"]],
                   frozenset(corpus["organisations"]))
    search = ExpertiseSearch(load_synonyms(sqlite_bot.settings.synonyms_file))
    compared = 0
    for q in corpus["queries"]:
        async with sqlite_bot.db.transaction() as repos:
            vocabulary = await search.refresh(repos)
            weights, groups = search.expand(q["query"], vocabulary), search.required(q["query"], vocabulary)
            expected = await repos.expertise.rank(weights, groups)
            await search.index.load(repos, weights)
        got = search.index.rank(weights, groups).ranking
        assert [(m, o, round(s, 6)) for m, o, s in got] == [(m, o, round(s, 6)) for m, o, s in expected], q["query"]
        compared += bool(expected)
    assert compared > 100


async def test_a_database_restored_to_an_older_version_is_searched_afresh(sqlite_bot: Bot) -> None:
    """A restore takes the version back: whatever a process held for the newer one is forgotten."""
    anna = await add_member(sqlite_bot, "Anna")
    await add_expertise(sqlite_bot, anna, "gedrag")
    search, _ = searcher(sqlite_bot)
    assert await names(sqlite_bot, search, "gedrag") == ["Anna"]
    async with sqlite_bot.db.engine.begin() as connection:
        await connection.execute(text("DELETE FROM expertise"))
        await connection.execute(text("UPDATE search_state SET version = version - 1"))
    assert await names(sqlite_bot, search, "gedrag") == []


async def test_a_transaction_sees_its_own_changes_and_nobody_keeps_them_before_the_commit(bot: Bot) -> None:
    """A first contact makes a member in the transaction that also searches: that search uses the cached
    ranking; what the transaction changed shows in its own answer, but is kept only once committed."""
    anna, bram = await add_member(bot, "Anna"), await add_member(bot, "Bram")
    await add_expertise(bot, anna, "gedrag")
    await add_expertise(bot, bram, "gedrag", confirmed=bot.clock.now() - timedelta(days=1))
    search, ranked = searcher(bot)
    assert await names(bot, search, "gedrag") == ["Anna", "Bram"]
    with pytest.raises(RuntimeError):
        async with bot.db.transaction() as repos:
            await repos.members.update(bram.id, name="Bram de Vries")
            page = await search.search(repos, "gedrag", limit=8)
            assert [hit.holder.name for hit in page.hits] == ["Anna", "Bram de Vries"]
            assert len(ranked) == 1  # the cached ranking
            raise RuntimeError("rolled back")
    assert await names(bot, search, "gedrag") == ["Anna", "Bram"]
    assert await names(bot, search, "gedrag", limit=4) == ["Anna", "Bram"]  # a page built from kept holders
    async with bot.db.transaction() as repos:
        carla = await repos.members.get(await repos.members.create(name="Carla", now=bot.clock.now()))
        assert carla is not None
        await repos.expertise.save(holder=carla, topic="gedrag", topic_key="gedrag", description="",
                                   terms={"gedrag": 3.0}, now=bot.clock.now())
        page = await search.search(repos, "gedrag", limit=8)  # its own new entry: from the database
        assert "Carla" in [hit.holder.name for hit in page.hits]
    assert "Carla" in await names(bot, search, "gedrag")


async def test_a_help_question_after_a_new_name_reads_no_topics_but_after_new_expertise_it_does(
        sqlite_bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """The channel question detector keeps the registered topics until expertise changes."""
    from handlers.circles.questions import QuestionDetector
    from storage.repositories import ExpertiseRepository

    anna, bram = await add_member(sqlite_bot, "Anna"), await add_member(sqlite_bot, "Bram")
    await add_expertise(sqlite_bot, anna, "gedrag")
    questions = QuestionDetector(ExpertiseSearch(load_synonyms(sqlite_bot.settings.synonyms_file)))
    read: list[int] = []
    topic_counts = ExpertiseRepository.topic_counts

    async def counted(self: ExpertiseRepository) -> Any:
        read.append(1)
        return await topic_counts(self)

    monkeypatch.setattr(ExpertiseRepository, "topic_counts", counted)

    async def experts(text: str) -> set[str]:
        async with sqlite_bot.db.transaction() as repos:
            found = await questions.experts_for(repos, text, asker_id=None, limit=3)
        return {hit.holder.name for hit in found.hits} if found else set()

    assert await experts("Wie weet iets van gedrag?") == {"Anna"}
    first = len(read)  # the topics, and the vocabulary's
    async with sqlite_bot.db.transaction() as repos:
        await repos.members.update(anna.id, name="Anna Smit")
    assert await experts("Wie weet iets van gedrag?") == {"Anna Smit"}
    assert len(read) == first
    await add_expertise(sqlite_bot, bram, "dyslexie")
    assert await experts("Wie kan helpen met dyslexie?") == {"Bram"}
    assert len(read) > first
