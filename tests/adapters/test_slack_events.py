"""Slack events for the circles: reactions, edits and deletions, end to end.

Signed event_callbacks go through the real bolt app (as in test_slack_e2e.py); the messages they
are about live in the fake Slack, which answers conversations.history, .replies and
chat.getPermalink from them. A small feature registered in the bot records what its listener
hears and answers a 💡 in the thread and a 👀 to the actor only. Background work is waited for
through the fake's recorded calls or by draining the adapter's tasks, never by sleeping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import channel_message, emoji
from bot.core.clock import ManualClock
from bot.core.inputs import Actor, Change, ChannelMessage, Listened, Reaction
from bot.core.reply import Audience, Outcome, Reply, Text
from handlers.context import Feature, HandlerContext
from tests.adapters.test_slack_e2e import World, running
from tests.fake_slack import BOT_ID, BOT_USER_ID, FakeSlack

OUTER = "C0BUITEN"
ANNA, PIET, BERT = "U0ANNA", "U0PIET", "U0BERT"
IDEA_TS = "1790000000.000100"
IDEA = "Zullen we een groeiklas starten voor leerlingen die thuiszitten?"


@dataclass
class Ear:
    """The test feature's listener: remembers every input, answers 💡 in the thread and 👀 to the actor."""

    heard: list[Listened] = field(default_factory=list)

    async def listen(self, ctx: HandlerContext, inp: Listened) -> Outcome:
        self.heard.append(inp)
        if isinstance(inp, Reaction) and inp.emoji == "💡":
            return Reply((Text(f"Idee genoteerd: {inp.message_text or '(onleesbaar)'}"),), audience=Audience.THREAD)
        if isinstance(inp, Reaction) and inp.emoji == "👀":
            return Reply.text("Je volgt dit idee.")
        return None


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock) -> AsyncIterator[tuple[World, Ear]]:
    async with running(sqlite_url, clock) as w:
        yield w, listening(w)


def listening(w: World) -> Ear:
    ear = Ear()
    feature: Feature = Feature("test.ear")
    feature.listen(ear.listen)
    w.bot.registry.add(feature)
    return ear


def idea(w: World) -> None:
    w.fake.add_message(OUTER, IDEA_TS, ANNA, IDEA)


# -- reactions ----------------------------------------------------------------------------------------


async def test_a_bulb_reaches_the_feature_with_the_message_its_author_and_link_and_is_answered_in_its_thread(
        world: tuple[World, Ear]) -> None:
    w, ear = world
    idea(w)
    reading = w.fake.hold("conversations.history")

    answer = await w.slack.reaction_added("bulb", PIET, OUTER, IDEA_TS, "Ev1001")

    assert (answer.status, answer.text) == (200, "")  # acknowledged before the message was read
    reading.set()
    posted = (await w.fake.wait_for_calls("chat.postMessage"))[0].params
    assert ear.heard == [Reaction("💡", Actor("slack", PIET), OUTER, message_id=IDEA_TS, message_text=IDEA,
                                  message_author=Actor("slack", ANNA), link=w.fake.permalink(OUTER, IDEA_TS),
                                  delivery_id="Ev1001")]
    assert ear.heard[0].link.startswith("https://netwerk.slack.com/archives/C0BUITEN/p1790000000000100")
    history = w.fake.ok_calls("conversations.history")[0].params
    assert (history["channel"], history["latest"], history["oldest"], history["limit"]) == (
        OUTER, IDEA_TS, IDEA_TS, "1")
    assert (posted["channel"], posted["thread_ts"]) == (OUTER, IDEA_TS)
    assert posted["text"] == f"Idee genoteerd: {IDEA}"
    assert [m.text for m in w.fake.thread(OUTER, IDEA_TS)] == [f"Idee genoteerd: {IDEA}"]


async def test_a_reaction_to_a_thread_reply_finds_its_text_through_the_replies_and_answers_in_that_thread(
        world: tuple[World, Ear]) -> None:
    w, ear = world
    idea(w)
    reply_ts = "1790000000.000300"
    w.fake.add_message(OUTER, "1790000000.000200", PIET, "Goed plan!", thread_ts=IDEA_TS)
    w.fake.add_message(OUTER, reply_ts, BERT, "Begin met twee scholen in Alkmaar-Noord", thread_ts=IDEA_TS)

    await w.slack.reaction_added("bulb", ANNA, OUTER, reply_ts, "Ev1002")

    posted = (await w.fake.wait_for_calls("chat.postMessage"))[0].params
    heard = ear.heard[0]
    assert isinstance(heard, Reaction)
    assert (heard.message_id, heard.thread_id) == (reply_ts, IDEA_TS)
    assert heard.message_text == "Begin met twee scholen in Alkmaar-Noord"
    assert heard.message_author == Actor("slack", BERT)
    assert heard.link == f"https://netwerk.slack.com/archives/{OUTER}/p1790000000000300?thread_ts={IDEA_TS}&cid={OUTER}"
    assert [c.params["ts"] for c in w.fake.ok_calls("conversations.replies")] == [reply_ts]
    assert posted["thread_ts"] == IDEA_TS  # the reply's thread, not a thread under the reply


async def test_a_reaction_retried_by_slack_reaches_the_feature_once(database_url: str, clock: ManualClock) -> None:
    async with running(database_url, clock) as w:
        ear = listening(w)
        idea(w)
        first = await w.slack.reaction_added("bulb", PIET, OUTER, IDEA_TS, "Ev1003")
        await w.fake.wait_for_calls("chat.postMessage")

        retried = await w.slack.reaction_added("bulb", PIET, OUTER, IDEA_TS, "Ev1003", retry=1)
        await w.adapter.drain()

        assert (first.status, retried.status) == (200, 200)
        assert len(ear.heard) == 1 and len(w.fake.ok_calls("chat.postMessage")) == 1


async def test_the_bots_own_reaction_and_reactions_to_files_are_ignored(world: tuple[World, Ear]) -> None:
    w, ear = world
    idea(w)
    own = await w.slack.reaction_added("bulb", BOT_USER_ID, OUTER, IDEA_TS, "Ev1004")
    on_a_file = await w.slack.event({"type": "reaction_added", "user": PIET, "reaction": "bulb",
                                     "item": {"type": "file", "file": "F0VERSLAG"}, "event_ts": "1790000001.000001"},
                                    "Ev1005")
    assert (own.status, on_a_file.status) == (200, 200)
    assert not w.adapter.tasks and not w.fake.ok_calls("conversations.history")

    await w.slack.reaction_added("bulb", PIET, OUTER, IDEA_TS, "Ev1006")
    await w.fake.wait_for_calls("chat.postMessage")

    assert [(r.actor.user_id, r.delivery_id) for r in ear.heard] == [(PIET, "Ev1006")]


async def test_a_bots_message_may_be_reacted_to_but_has_no_author(world: tuple[World, Ear]) -> None:
    w, ear = world
    w.fake.add_message(OUTER, IDEA_TS, "", "Weekoverzicht: drie nieuwe ideeën", bot_id="B0ANDERS")

    await w.slack.reaction_added("bulb", PIET, OUTER, IDEA_TS, "Ev1007")

    await w.fake.wait_for_calls("chat.postMessage")
    heard = ear.heard[0]
    assert isinstance(heard, Reaction)
    assert (heard.message_text, heard.message_author) == ("Weekoverzicht: drie nieuwe ideeën", None)


async def test_a_message_slack_will_not_show_is_dispatched_with_empty_text(world: tuple[World, Ear]) -> None:
    w, ear = world
    idea(w)
    w.fake.refuse("conversations.history", "missing_scope")

    await w.slack.reaction_added("bulb", PIET, OUTER, IDEA_TS, "Ev1008")  # no channels:history
    await w.slack.reaction_added("bulb", PIET, OUTER, "1790000000.000999", "Ev1009")  # deleted meanwhile
    await w.fake.wait_for_calls("chat.postMessage", 2)

    # the two reactions are handled side by side after their acks: heard in either order
    unreadable, gone = sorted(ear.heard, key=lambda heard: getattr(heard, "message_id", "") != IDEA_TS)
    assert isinstance(unreadable, Reaction) and isinstance(gone, Reaction)
    assert (unreadable.message_text, unreadable.message_author) == ("", None)
    assert unreadable.link == w.fake.permalink(OUTER, IDEA_TS)  # chat.getPermalink needs no scope
    assert (gone.message_id, gone.message_text, gone.message_author, gone.link) == ("1790000000.000999", "", None, "")
    assert [c.params["text"] for c in w.fake.ok_calls("chat.postMessage")] == ["Idee genoteerd: (onleesbaar)"] * 2


async def test_an_answer_for_the_actor_only_is_ephemeral_and_emoji_names_become_emoji(
        world: tuple[World, Ear]) -> None:
    w, ear = world
    idea(w)

    await w.slack.reaction_added("eyes", PIET, OUTER, IDEA_TS, "Ev1010")
    await w.slack.reaction_added("+1::skin-tone-4", PIET, OUTER, IDEA_TS, "Ev1011")
    await w.slack.reaction_added("partyparrot", PIET, OUTER, IDEA_TS, "Ev1012")
    posted = (await w.fake.wait_for_calls("chat.postEphemeral"))[0].params
    await w.adapter.drain()

    emojis = {r.delivery_id: r.emoji for r in ear.heard if isinstance(r, Reaction)}  # handled side by side
    assert emojis == {"Ev1010": "👀", "Ev1011": "👍", "Ev1012": ":partyparrot:"}
    assert (posted["channel"], posted["user"], posted["text"]) == (OUTER, PIET, "Je volgt dit idee.")
    assert not w.fake.ok_calls("chat.postMessage")


def test_slack_reaction_names_as_emoji() -> None:
    names = ("bulb", "bulb::skin-tone-2", "thumbsup", "+1", "heart", "eyes", "wave::skin-tone-6",
             "muscle::skin-tone-2", "custom-logo")

    assert [emoji(n) for n in names] == ["💡", "💡", "👍", "👍", "❤️", "👀", "👋", ":muscle:", ":custom-logo:"]


# -- edits and deletions ------------------------------------------------------------------------------


async def test_an_edit_arrives_as_edited_with_the_new_text_and_an_unfurl_does_not_arrive(
        world: tuple[World, Ear]) -> None:
    w, ear = world
    idea(w)

    await w.slack.message_changed(OUTER, IDEA_TS, IDEA, "Ev2001")  # Slack added a link preview
    await w.slack.message_changed(OUTER, IDEA_TS, "Een groeiklas, te beginnen in januari?", "Ev2002")
    await w.adapter.drain()

    assert ear.heard == [ChannelMessage("Een groeiklas, te beginnen in januari?", Actor("slack", ANNA), OUTER,
                                        message_id=IDEA_TS, delivery_id="Ev2002", change=Change.EDITED)]


async def test_an_edited_thread_reply_names_its_thread(world: tuple[World, Ear]) -> None:
    w, ear = world
    idea(w)
    w.fake.add_message(OUTER, "1790000000.000200", PIET, "Doe ik mee", thread_ts=IDEA_TS)

    await w.slack.message_changed(OUTER, "1790000000.000200", "Doe ik mee, met De Zandloper", "Ev2003")
    await w.adapter.drain()

    edited = ear.heard[0]
    assert isinstance(edited, ChannelMessage)
    assert (edited.change, edited.message_id, edited.thread_id) == (Change.EDITED, "1790000000.000200", IDEA_TS)


async def test_edits_of_bots_messages_are_ignored(world: tuple[World, Ear]) -> None:
    w, ear = world
    another_app = ("U0ANDEREBOT", "B0ANDERS")  # an app's messages carry its bot user and its bot id
    w.fake.add_message(OUTER, "1790000000.000050", another_app[0], "Herinnering: overleg dinsdag",
                       bot_id=another_app[1])
    w.fake.add_message(OUTER, "1790000000.000060", BOT_USER_ID, "Samenvatting", bot_id=BOT_ID)
    idea(w)

    answers = [await w.slack.message_changed(OUTER, "1790000000.000050", "Herinnering: overleg woensdag", "Ev2004"),
               await w.slack.message_changed(OUTER, "1790000000.000060", "Samenvatting (bijgewerkt)", "Ev2005")]
    assert [a.status for a in answers] == [200, 200]
    assert not w.adapter.tasks

    await w.slack.message_changed(OUTER, IDEA_TS, "Groeiklas!", "Ev2006")
    await w.adapter.drain()
    assert [(m.text, m.delivery_id) for m in ear.heard if isinstance(m, ChannelMessage)] == [("Groeiklas!", "Ev2006")]


async def test_a_deletion_arrives_as_deleted(world: tuple[World, Ear]) -> None:
    w, ear = world
    idea(w)

    await w.slack.message_deleted(OUTER, IDEA_TS, "Ev2007")
    await w.adapter.drain()

    assert ear.heard == [ChannelMessage("", Actor("slack", ANNA), OUTER, message_id=IDEA_TS, delivery_id="Ev2007",
                                        change=Change.DELETED)]


async def test_a_new_message_still_arrives_as_new_without_a_link(world: tuple[World, Ear]) -> None:
    w, ear = world

    await w.slack.message_posted(OUTER, IDEA_TS, ANNA, IDEA, "Ev2008")
    await w.adapter.drain()

    assert ear.heard == [ChannelMessage(IDEA, Actor("slack", ANNA), OUTER, message_id=IDEA_TS, delivery_id="Ev2008")]


def test_what_a_message_event_becomes() -> None:
    """The cases Slack sends that the end-to-end tests do not: a tombstone, a change without its
    previous message, a deletion Slack sent without one, joins."""
    parent = {"type": "message", "user": ANNA, "text": IDEA, "ts": IDEA_TS, "thread_ts": IDEA_TS, "reply_count": 2}
    tombstone = {"type": "message", "subtype": "message_changed", "channel": OUTER, "hidden": True,
                 "message": {"type": "message", "subtype": "tombstone", "user": "USLACKBOT", "hidden": True,
                             "text": "This message was deleted.", "ts": IDEA_TS, "thread_ts": IDEA_TS},
                 "previous_message": parent}
    assert channel_message(tombstone, "Ev1", BOT_USER_ID) == ChannelMessage(
        "", Actor("slack", ANNA), OUTER, message_id=IDEA_TS, delivery_id="Ev1", change=Change.DELETED)
    edited = {"type": "message", "subtype": "message_changed", "channel": OUTER,
              "message": {"user": ANNA, "text": "nieuw", "ts": IDEA_TS, "edited": {"user": ANNA, "ts": "1"}}}
    unedited = {**edited, "message": {"user": ANNA, "text": IDEA, "ts": IDEA_TS}}
    assert channel_message(edited, "Ev2", BOT_USER_ID) is not None
    assert channel_message(unedited, "Ev3", BOT_USER_ID) is None
    bare = {"type": "message", "subtype": "message_deleted", "channel": OUTER, "deleted_ts": IDEA_TS}
    assert channel_message(bare, "Ev4", BOT_USER_ID) == ChannelMessage(
        "", Actor("slack", ""), OUTER, message_id=IDEA_TS, delivery_id="Ev4", change=Change.DELETED)
    joined = {"type": "message", "subtype": "channel_join", "channel": OUTER, "user": PIET, "ts": IDEA_TS,
              "text": "<@U0PIET> has joined the channel"}
    assert channel_message(joined, "Ev5", BOT_USER_ID) is None


# -- the outbox ---------------------------------------------------------------------------------------


async def test_an_outbox_reply_for_a_thread_is_posted_in_that_thread(world: tuple[World, Ear]) -> None:
    w, _ = world

    said = "Dit idee staat in het overzicht van de week"
    ref = await w.adapter.send(OUTER, Reply((Text(said),), thread="1700000000.000100"))
    await w.adapter.send(OUTER, Reply((Text("Weekoverzicht"),)))

    in_thread, in_channel = (c.params for c in w.fake.ok_calls("chat.postMessage"))
    assert (in_thread["channel"], in_thread["thread_ts"]) == (OUTER, "1700000000.000100")
    assert "thread_ts" not in in_channel
    assert ref.startswith(f"{OUTER}/")
    assert [m.text for m in w.fake.thread(OUTER, "1700000000.000100")] == [said]


# -- the fake answers as Slack does (what the tests above rely on) ------------------------------------


async def test_the_fake_reads_messages_as_slack_does() -> None:
    fake = await FakeSlack().start()
    try:
        client = AsyncWebClient(token=fake.token, base_url=fake.url)
        fake.add_message(OUTER, "1790000000.000100", ANNA, "eerste")
        fake.add_message(OUTER, "1790000000.000200", PIET, "in de draad", thread_ts="1790000000.000100")
        fake.add_message(OUTER, "1790000000.000300", BERT, "tweede")

        history = await client.conversations_history(channel=OUTER)
        replies = await client.conversations_replies(channel=OUTER, ts="1790000000.000200")
        one = await client.conversations_history(channel=OUTER, latest="1790000000.000100",
                                                 oldest="1790000000.000100", inclusive=True, limit=1)
        none = await client.conversations_history(channel=OUTER, latest="1790000000.000100",
                                                  oldest="1790000000.000100", limit=1)

        assert [m["text"] for m in history["messages"]] == ["tweede", "eerste"]  # newest first, no replies
        assert history["messages"][1]["reply_count"] == 1
        assert [m["text"] for m in replies["messages"]] == ["eerste", "in de draad"]  # the parent first
        assert [m["text"] for m in one["messages"]] == ["eerste"] and none["messages"] == []
        assert (await client.chat_getPermalink(channel=OUTER, message_ts="1790000000.000200"))["permalink"] == (
            f"https://netwerk.slack.com/archives/{OUTER}/p1790000000000200?thread_ts=1790000000.000100&cid={OUTER}")
        for call, error in ((client.chat_getPermalink(channel=OUTER, message_ts="1790000000.000999"),
                             "message_not_found"),
                            (client.chat_getPermalink(channel="C0NERGENS", message_ts="1790000000.000100"),
                             "channel_not_found"),
                            (client.conversations_history(channel="C0NERGENS"), "channel_not_found"),
                            (client.conversations_replies(channel=OUTER, ts="1790000000.000999"),
                             "thread_not_found"),
                            (client.conversations_history(channel=OUTER, latest="gisteren"), "invalid_ts_latest")):
            with pytest.raises(SlackApiError) as refused:
                await call
            assert refused.value.response["error"] == error
    finally:
        await fake.close()
