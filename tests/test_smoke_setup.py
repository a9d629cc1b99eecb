from bot.app import Bot
from tests.support import add_expertise, add_member, run, text_of


async def test_expertise_search_finds_member_on_both_databases(bot: Bot) -> None:
    anna = await add_member(bot, "Anna de Vries", user_id="anna")
    await add_expertise(bot, anna, "gedragsspecialist", "Observaties in de klas")
    assert "Anna de Vries" in text_of(await run(bot, "/expertise gedrag"))
