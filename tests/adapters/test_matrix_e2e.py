"""The Matrix adapter end to end: the bot (matrix-nio) and people (matrix-nio clients, as Element would
send) on a real Synapse; what the people see is read by syncing, never by sleeping."""

from __future__ import annotations

import pytest

from bot.core.inputs import Change, ChannelMessage, Listened, Reaction
from bot.core.reply import Outcome, Reply, reply_to_json
from handlers.context import Feature, HandlerContext
from tests.matrix_support import MatrixWorld, body, content, html, matrix_world
from tests.support import add_expertise, add_member
from tests.synapse import joined

world = pytest.fixture(matrix_world, name="world")


async def test_expertise_round_trip_escapes_names_and_never_mentions_the_room(world: MatrixWorld) -> None:
    anna = await world.person("anna", "Anna de Vries")
    async with world.bot() as (bot, _):
        piet = await add_member(bot, "<b>Piet</b> @room", user_id=world.user_id("piet"), platform="matrix")
        await add_expertise(bot, piet, "gedrag", "Gedragsspecialist, <script>alert(1)</script>")
        room = await world.room_with_bot(anna)
        asked = await anna.send(room, "!expertise gedrag")
        answer = await anna.reply_from(world.bot_id, room, contains="Expertise: gedrag")

    assert content(answer)["m.relates_to"] == {"m.in_reply_to": {"event_id": asked}}
    assert content(answer)["format"] == "org.matrix.custom.html"
    assert "&lt;b&gt;Piet&lt;/b&gt;" in html(answer) and "<b>Piet" not in html(answer)
    assert "&lt;script&gt;" in html(answer) and "<script>" not in html(answer)
    assert "@room" not in body(answer) and "@room" not in html(answer)
    assert "@\u2060room" in body(answer)  # still readable, but no room mention
    # the one explicit mention: Piet, linked by his Matrix id; never the whole room
    assert content(answer)["m.mentions"] == {"user_ids": [world.user_id("piet")]}
    assert f'href="https://matrix.to/#/{world.user_id("piet")}"' in html(answer)


async def test_help_without_a_slash(world: MatrixWorld) -> None:
    anna = await world.person("anna")
    async with world.bot():
        room = await world.room_with_bot(anna)
        await anna.send(room, "!netwerkbot")
        general = await anna.reply_from(world.bot_id, room)
        await anna.send(room, "!expertise help")
        expertise = await anna.reply_from(world.bot_id, room, contains="!expertise gedrag")
        await anna.send(room, "!bestaatniet")
        unknown = await anna.reply_from(world.bot_id, room)
        root = await anna.send(room, "Een vraag over expertise")
        await anna.send(room, "!expertise hulp", **{"m.relates_to": {"rel_type": "m.thread", "event_id": root}})
        in_thread = await anna.reply_from(world.bot_id, room, contains="!expertise gedrag")
    assert "!expertise" in body(general) and "/expertise" not in body(general)
    assert "!expertise toevoegen" in body(in_thread)
    assert content(in_thread)["m.relates_to"]["rel_type"] == "m.thread"
    assert content(in_thread)["m.relates_to"]["event_id"] == root
    assert "!expertise toevoegen" in body(expertise)
    assert "!bestaatniet" in body(unknown) and "!netwerkbot" in body(unknown)


async def test_invitations_only_from_allowed_people(world: MatrixWorld) -> None:
    anna = await world.person("anna")
    mallory = await world.person("mallory")
    async with world.bot(matrix_allowed=frozenset({world.user_id("anna")})):
        refused = await mallory.create_room(invite=(world.bot_id,))
        await mallory.wait(lambda r, e: r == refused and e.get("type") == "m.room.member"
                           and e.get("state_key") == world.bot_id and content(e)["membership"] == "leave",
                           what="the bot declining the invitation")

        room = await anna.create_room()
        await anna.send(room, "!netwerkbot")  # said before the bot was there: not answered
        await anna.client.room_invite(room, world.bot_id)  # allowed: joined
        await joined(anna, room, world.bot_id)
        await anna.send(room, "!expertise")
        await anna.reply_from(world.bot_id, room, contains="expertise")
        assert await anna.quiet(world.bot_id, room, seconds=1.0) == []
    assert not [e for r, e in mallory.events if r == refused and e.get("sender") == world.bot_id
                and e.get("type") == "m.room.message"]


async def test_buttons_are_numbered_commands(world: MatrixWorld) -> None:
    anna = await world.person("anna")
    async with world.bot() as (bot, _):
        for n in range(12):
            member = await add_member(bot, f"Lid {n:02d}")
            await add_expertise(bot, member, "gedrag")
        room = await world.room_with_bot(anna)
        await anna.send(room, "!expertise gedrag")
        first = await anna.reply_from(world.bot_id, room, contains="Expertise: gedrag")
        numbers = [word for word in body(first).split() if word.startswith("!") and word[1:].isdigit()]
        assert numbers, body(first)
        await anna.send(room, numbers[-1])  # the last button of the page: "more"
        more = await anna.reply_from(world.bot_id, room)
        await anna.send(room, "!99")
        wrong = await anna.reply_from(world.bot_id, room)
    assert "Lid" in body(more) and body(more) != body(first)
    assert "Kies een nummer van 1 tot en met" in body(wrong)


async def test_send_message_opens_a_room_with_both(world: MatrixWorld) -> None:
    anna = await world.person("anna", "Anna")
    piet_client = await world.person("piet", "Piet")
    async with world.bot() as (bot, _):
        piet = await add_member(bot, "Piet Bakker", user_id=piet_client.user_id, platform="matrix")
        await add_expertise(bot, piet, "gedrag")
        room = await world.room_with_bot(anna)
        await anna.send(room, "!expertise gedrag")
        found = await anna.reply_from(world.bot_id, room, contains="Piet Bakker")
        assert "!1 Stuur bericht" in body(found), body(found)
        await anna.send(room, "!1")
        intro = await anna.wait(lambda r, e: r != room and e.get("sender") == world.bot_id
                                and "Piet Bakker" in body(e), what="the introduction")
        group = next(r for r, e in anna.events if e is intro)
        await piet_client.wait(lambda r, e: r == group and e.get("sender") == world.bot_id, what="Piet's invitation")
    assert "Anna" in body(intro) and "gedrag" in body(intro)


async def test_a_form_is_a_dialog_in_the_direct_room(world: MatrixWorld) -> None:
    anna = await world.person("anna")
    async with world.bot() as (bot, _):
        room = await world.room_with_bot(anna)
        await anna.send(room, "!expertise toevoegen")
        pointer = await anna.reply_from(world.bot_id, room, contains="direct bericht")
        first = await anna.wait(lambda r, e: r != room and e.get("sender") == world.bot_id
                                and "Onderwerpen" in body(e), what="the first question")
        dm = next(r for r, e in anna.events if e is first)
        await anna.send(dm, "gedrag, dyslexie")
        await anna.reply_from(world.bot_id, dm, contains="leeg")  # the optional description
        await anna.send(dm, "Ik begeleid <i>leerlingen</i> met gedragsproblemen")
        await anna.reply_from(world.bot_id, dm, contains="Expertise toevoegen")  # the dialog's start
        done = await anna.reply_from(world.bot_id, dm)
        async with bot.db.transaction() as repos:
            member = await repos.members.by_identity("matrix", anna.user_id)
            assert member is not None
            saved = {e.topic for e in await repos.expertise.of_holder(member)}
        await anna.send(dm, "nog iets")  # no dialog open any more
        hint = await anna.reply_from(world.bot_id, dm)
    assert "Expertise toevoegen" in body(pointer) or "direct bericht" in body(pointer)
    assert saved == {"gedrag", "dyslexie"}
    assert "gedrag" in body(done)
    assert "Ik wacht niet op een antwoord" in body(hint)


class Heard:
    """A feature that only listens: what reached it."""

    def __init__(self) -> None:
        self.inputs: list[Listened] = []

    async def listen(self, ctx: HandlerContext, inp: Listened) -> Outcome:
        self.inputs.append(inp)
        return None

    def feature(self) -> Feature:
        f: Feature = Feature("heard")
        f.listen(self.listen)
        return f


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_messages_edits_deletions_and_reactions_reach_the_listeners(world: MatrixWorld, encrypted: bool) -> None:
    from tests.synapse import until

    anna = await world.person("anna", "Anna")
    bert = await world.person("bert", "Bert")
    heard = Heard()
    async with world.bot() as (bot, _):
        bot.registry.add(heard.feature())
        room = await world.room_with_bot(anna, bert, encrypted=encrypted)
        said = await anna.send(room, "We zouden een groeiklas kunnen starten")
        await until(lambda: len(heard.inputs) == 1)
        await anna.send(room, "* Een groeiklas voor de hele wijk", **{
            "m.new_content": {"msgtype": "m.text", "body": "Een groeiklas voor de hele wijk"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": said}})
        await until(lambda: len(heard.inputs) == 2)
        await bert.send_event(room, "m.reaction", {"m.relates_to": {"rel_type": "m.annotation", "event_id": said,
                                                                    "key": "💡"}})
        await until(lambda: len(heard.inputs) == 3)
        await anna.client.room_redact(room, said)
        await until(lambda: len(heard.inputs) == 4)
    new, edited, reaction, deleted = heard.inputs
    assert isinstance(new, ChannelMessage) and new.change is Change.NEW and new.message_id == said
    assert new.text == "We zouden een groeiklas kunnen starten" and new.actor.user_id == anna.user_id
    assert new.link == f"https://matrix.to/#/{room}/{said}"
    assert isinstance(edited, ChannelMessage) and edited.change is Change.EDITED
    assert edited.message_id == said and edited.text == "Een groeiklas voor de hele wijk"
    assert isinstance(reaction, Reaction) and reaction.emoji == "💡" and reaction.actor.user_id == bert.user_id
    assert reaction.message_id == said and reaction.message_text == "We zouden een groeiklas kunnen starten"
    assert reaction.message_author is not None and reaction.message_author.user_id == anna.user_id
    assert isinstance(deleted, ChannelMessage) and deleted.change is Change.DELETED and deleted.message_id == said


async def test_the_outbox_posts_to_a_role_room_and_in_threads(world: MatrixWorld) -> None:
    anna = await world.person("anna")
    room = await anna.create_room(invite=(world.bot_id,))
    elsewhere = await anna.create_room()
    async with world.bot(matrix_room_consultants=room) as (bot, _):
        await joined(anna, room, world.bot_id)
        await anna.send(room, "!netwerkbot")  # Anna is a member now: the bot knows her
        await anna.reply_from(world.bot_id, room)
        async with bot.db.transaction() as repos:
            await repos.outbox.enqueue("consultants", reply_to_json(Reply.text("Herinnering: dinsdag overleg <b>")),
                                       bot.clock.now())
        assert await bot.outbox.flush() == 1
        reminder = await anna.reply_from(world.bot_id, room, contains="Herinnering")
        async with bot.db.transaction() as repos:
            thread = Reply.text("In de draad")
            await repos.outbox.enqueue("consultants", reply_to_json(Reply(thread.parts, thread=reminder["event_id"])),
                                       bot.clock.now())
            await repos.outbox.enqueue("inner_circle", reply_to_json(Reply.text("nergens")), bot.clock.now())
            await repos.outbox.enqueue(elsewhere, reply_to_json(Reply.text("niet lid")), bot.clock.now())
            member = await repos.members.by_identity("matrix", anna.user_id)
            assert member is not None
            await repos.outbox.enqueue(f"member:{member.id}", reply_to_json(Reply.text("Persoonlijk")), bot.clock.now())
        # the inner circle has no room, the bot is not in `elsewhere`: refused, not retried
        assert await bot.outbox.flush() == 2
        threaded = await anna.reply_from(world.bot_id, room, contains="In de draad")
        personal = await anna.wait(lambda r, e: r not in (room, elsewhere) and e.get("sender") == world.bot_id
                                   and body(e) == "Persoonlijk", what="the direct message")
        async with bot.db.transaction() as repos:
            failed = await repos.outbox.failed(bot.clock.now().replace(year=2000))
    assert "&lt;b&gt;" in html(reminder)
    assert content(threaded)["m.relates_to"]["rel_type"] == "m.thread"
    assert content(threaded)["m.relates_to"]["event_id"] == reminder["event_id"]
    assert [m.channel for m in failed] == ["inner_circle", elsewhere]
    assert "NETWERKBOT_MATRIX_ROOM_" in failed[0].last_error and "M_FORBIDDEN" in failed[1].last_error
    assert personal["type"] == "m.room.message"


async def test_a_restart_answers_what_came_meanwhile_once_and_keeps_the_device(world: MatrixWorld) -> None:
    anna = await world.person("anna")
    async with world.bot() as (_, adapter):
        room = await world.room_with_bot(anna)
        await anna.send(room, "!expertise")
        await anna.reply_from(world.bot_id, room, contains="expertise")
        await anna.send(room, "!expertise toevoegen")  # a form, left half-way by the restart
        await anna.reply_from(world.bot_id, room, contains="direct bericht")
        first = await anna.wait(lambda r, e: r != room and e.get("sender") == world.bot_id
                                and "Onderwerpen" in body(e), what="the first question")
        dm = next(r for r, e in anna.events if e is first)
        device = adapter.device_id
    await anna.send(room, "!netwerkbot")  # while the bot is down
    async with world.bot() as (_, again):
        answer = await anna.reply_from(world.bot_id, room)
        assert again.device_id == device
        await anna.send(dm, "gedrag")
        forgotten = await anna.reply_from(world.bot_id, dm, contains="Ik wacht niet op een antwoord")
        await anna.send(room, "!expertise")
        await anna.reply_from(world.bot_id, room, contains="expertise")
        later = await anna.quiet(world.bot_id, room)
    assert "!expertise" in body(answer)  # the help, answered after the restart
    assert "Begin opnieuw" in body(forgotten)
    assert later == []  # nothing answered twice, no history answered again
