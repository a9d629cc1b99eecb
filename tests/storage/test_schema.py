"""The schema the migrations build is the schema the models describe, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, exc

from bot.app import Bot
from storage.models import Base
from tests.support import add_expertise, add_member, add_organisation


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_match_the_models(bot: Bot) -> None:
    async with bot.db.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_upgrade_twice_is_harmless(bot: Bot) -> None:
    await add_member(bot, "Anna", user_id="anna")
    await bot.start()
    async with bot.db.transaction() as repos:
        assert [m.name for m in await repos.members.all()] == ["Anna"]


async def test_times_come_back_aware_and_equal(bot: Bot) -> None:
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    anna = await add_member(bot, "Anna")
    await add_expertise(bot, anna, "gedrag", confirmed=moment)
    async with bot.db.transaction() as repos:
        [entry] = await repos.expertise.of_holder(anna)
    assert entry.confirmed_at == moment and entry.confirmed_at.utcoffset() == timedelta(0)


async def test_one_entry_per_holder_and_topic_is_enforced_by_the_database(bot: Bot) -> None:
    from storage.models import Expertise

    school = await add_organisation(bot, "Baeken")
    await add_expertise(bot, school, "gedrag")
    with pytest.raises(exc.IntegrityError):
        async with bot.db.transaction() as repos:
            now = bot.clock.now()
            repos.session.add(Expertise(organisation_id=school.id, topic="Gedrag", topic_key="gedrag",
                                        description="", created_at=now, confirmed_at=now))
            await repos.session.flush()


async def test_removing_a_member_removes_their_expertise_and_index_rows(bot: Bot) -> None:
    anna = await add_member(bot, "Anna", user_id="anna")
    await add_expertise(bot, anna, "gedrag", "observaties")
    async with bot.db.transaction() as repos:
        await repos.members.delete(anna.id)
    async with bot.db.transaction() as repos:
        page = await repos.expertise.search({"gedrag": 1.0, "observaties": 1.0}, limit=5)
    assert page.total == 0
