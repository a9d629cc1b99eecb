"""/netwerkbot: help, your profile, and settings for coordinators."""

from __future__ import annotations

from bot.app import Bot
from tests.support import actor, add_organisation, run, text_of


async def test_help_lists_the_commands(sqlite_bot: Bot) -> None:
    text = text_of(await run(sqlite_bot, "/netwerkbot"))
    assert "/expertise gedrag" in text and "/netwerkbot profiel" in text


async def test_member_sets_role_and_asks_for_a_school_that_a_coordinator_confirms(bot: Bot) -> None:
    await add_organisation(bot, "Vronermeerschool")
    asked = text_of(await run(bot, "/netwerkbot profiel school vronermeer school"))
    assert "Je aanvraag voor Vronermeerschool ligt bij de coördinatoren." in asked
    assert "Je rol is nu IB-er" in text_of(await run(bot, "/netwerkbot profiel rol IB-er"))
    profile = text_of(await run(bot, "/netwerkbot profiel"))
    assert "Rol: IB-er" in profile and "School of organisatie: -" in profile
    assert "Aangevraagd: Vronermeerschool (wacht op een coördinator)." in profile
    assert "Dit kunnen alleen coördinatoren." in text_of(await run(bot, "/netwerkbot bevestigen 1"))
    confirmed = text_of(await run(bot, "/netwerkbot bevestigen 1", actor("coord")))
    assert confirmed == "Aanvraag 1 bevestigd: U1 is nu van Vronermeerschool."
    profile = text_of(await run(bot, "/netwerkbot profiel"))
    assert "School of organisatie: Vronermeerschool" in profile and "Aangevraagd" not in profile
    assert "Aanvraag 1 is al bevestigd." in text_of(await run(bot, "/netwerkbot weigeren 1", actor("coord")))


async def test_unknown_role_or_school_is_explained(sqlite_bot: Bot) -> None:
    role = text_of(await run(sqlite_bot, "/netwerkbot profiel rol astronaut"))
    assert "De rol \"astronaut\" ken ik niet. Kies uit: consulent, ib-er" in role
    school = text_of(await run(sqlite_bot, "/netwerkbot profiel school Nergenshuizen"))
    assert "Ik ken geen school, organisatie of lid met de naam \"Nergenshuizen\"" in school


async def test_settings_only_for_coordinators_and_without_secrets(sqlite_bot: Bot) -> None:
    refused = text_of(await run(sqlite_bot, "/netwerkbot instellingen", actor("U1")))
    assert "alleen coördinatoren" in refused.lower()
    shown = text_of(await run(sqlite_bot, "/netwerkbot instellingen", actor("coord")))
    assert "Tijdzone: Europe/Amsterdam" in shown and "Database: sqlite+aiosqlite" in shown
