"""Who cast a school's ballot: seen by that school's members and the coordinators, never in a secret
vote's public output; a coordinator's own school is set at once (as the import sets members')."""

from __future__ import annotations

from bot.app import Bot
from bot.core.inputs import FormSubmission
from bot.core.reply import reply_from_json
from tests.handlers.test_proposals import COORD, VOTE, network, outbox
from tests.support import actor, add_organisation, press, run, text_of


async def test_a_secret_vote_per_school_shows_who_cast_a_ballot_only_to_the_school_and_coordinators(
        bot: Bot) -> None:
    people = await network(bot)
    await bot.dispatcher.dispatch(FormSubmission("stemming.form", VOTE | {"secret": "ja"}, COORD,
                                                 channel="C0VOORSTEL"))
    await press(bot, "stemming.stem", "1:1", people["ingrid"])

    colleague = text_of(await run(bot, "/stemming 1", people["bart"]))
    assert "De stem van Baeken (Ingrid) is uitgebracht." in colleague and "(Ingrid): tegen" not in colleague
    assert "Ingrid" not in text_of(await run(bot, "/stemming 1", people["thomas"]))  # another school
    assert "De stem van Baeken (Ingrid) is uitgebracht." in text_of(await run(bot, "/stemming 1", COORD))

    await run(bot, "/stemming sluiten 1", COORD)
    public = [text_of(reply_from_json(m.body)) for m in await outbox(bot) if not m.channel.startswith("member:")]
    assert public and not any("Ingrid" in text for text in public)
    assert "Ingrid" not in text_of(await run(bot, "/stemming 1", people["piet"]))


async def test_a_coordinators_own_school_is_set_at_once_and_a_request_for_the_same_school_is_no_request(
        bot: Bot) -> None:
    people = await network(bot)
    await add_organisation(bot, "Lierenland")
    assert text_of(await run(bot, "/netwerkbot profiel school Lierenland", COORD)) == \
        "Je school of organisatie is nu Lierenland."
    assert text_of(await run(bot, "/netwerkbot profiel school Baeken", people["ingrid"])) == "Je bent al van Baeken."
    assert text_of(await run(bot, "/netwerkbot aanvragen", COORD)) == "Er zijn geen open aanvragen voor een school."
    assert "Aanvraag 7 bestaat niet." in text_of(await run(bot, "/netwerkbot weigeren 7", COORD))
    assert "Aanvraag 99999999999999999999 bestaat niet." in \
        text_of(await run(bot, "/netwerkbot weigeren 99999999999999999999", COORD))
    assert "Welke aanvraag?" in text_of(await run(bot, "/netwerkbot bevestigen ²", COORD))

    await run(bot, "/netwerkbot profiel school Lierenland", people["piet"])
    listed = text_of(await run(bot, "/netwerkbot aanvragen", COORD))
    assert "Aanvraag 1: Piet wil van Lierenland zijn (nu: -)" in listed and "Bevestigen" in listed
    messages = [m for m in await outbox(bot) if m.key == "school-request:1:6"]  # Marieke is member 6
    assert len(messages) == 1 and messages[0].channel == "member:6"
    refused = text_of(await press(bot, "school.weigeren", "1", actor("coord")))
    assert refused == "Aanvraag 1 geweigerd: Piet wordt niet van Lierenland."
    assert "School of organisatie: -" in text_of(await run(bot, "/netwerkbot profiel", people["piet"]))
