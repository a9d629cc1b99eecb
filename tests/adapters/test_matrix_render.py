"""Matrix rendering, failure sorting and settings, without a homeserver."""

from __future__ import annotations

from nio import RoomSendError

from bot.adapters.matrix.adapter import sorted_error, strip_reply_fallback
from bot.adapters.matrix.render import answer_index, ballot_of, poll_answers, poll_start, render, without_ballot
from bot.core.reply import (
    Actions,
    Ballot,
    Button,
    Heading,
    Item,
    Mention,
    Reply,
    Text,
    reply_from_json,
    reply_to_json,
)
from bot.outbox import DeliveryDelayed, DeliveryRefused
from config.i18n import Catalog
from tests.conftest import make_settings

T = Catalog("nl")


def test_user_text_is_escaped_and_cannot_mention_the_room() -> None:
    reply = Reply((Heading("<script>x</script>"), Text("Hoi @room en @ROOM, <a href='x'>klik</a> & zo"),
                   Item("<b>Piet</b>", ("regel <i>", ), Mention("<b>Piet</b>", (("matrix", "@piet:swv.nl"),)))))
    out = render(reply, T)
    assert "<script>" not in out.html and "&lt;script&gt;" in out.html
    assert "<a href='x'>" not in out.html and "&lt;a href=&#x27;x&#x27;&gt;" in out.html
    assert "@room" not in out.body.lower() and "@room" not in out.html.lower()
    assert out.mentions == ["@piet:swv.nl"]
    assert out.content()["m.mentions"] == {"user_ids": ["@piet:swv.nl"]}
    assert render(Reply.text("niemand"), T).content()["m.mentions"] == {}
    assert '<a href="https://matrix.to/#/@piet:swv.nl">&lt;b&gt;Piet&lt;/b&gt;</a>' in out.html


def test_buttons_are_numbered_across_the_reply() -> None:
    reply = Reply((Item("Anna", buttons=(Button("Stuur bericht", "expertise.contact", "1"),)),
                   Actions((Button("Meer", "expertise.page", "8"), Button("<Stop>", "x.stop")))))
    out = render(reply, T)
    assert [b.action_id for b in out.buttons] == ["expertise.contact", "expertise.page", "x.stop"]
    assert "!1 Stuur bericht" in out.body and "!2 Meer" in out.body and "!3 <Stop>" in out.body
    assert "<code>!3</code> &lt;Stop&gt;" in out.html


def test_a_ballot_is_marked_and_survives_the_outbox() -> None:
    vote = Reply((Heading("Stemming #1: ja?"), Actions((Button("ja", "stemming.stem", "1:0"),
                                                        Button("nee", "stemming.stem", "1:1")), ballot=Ballot.OPEN)))
    again = reply_from_json(reply_to_json(vote))
    assert again == vote and ballot_of(again) is not None
    assert ballot_of(without_ballot(vote)) is None and ballot_of(Reply.text("x")) is None
    assert reply_from_json(reply_to_json(Reply((Actions((Button("a", "b"),)),)))).parts[0] == Actions(
        (Button("a", "b"),))


def test_poll_content_has_the_unstable_and_the_stable_blocks() -> None:
    start = poll_start("Stemming #1: @room ja?", ["ja", "nee"])
    unstable = start["org.matrix.msc3381.poll.start"]
    assert unstable["kind"] == "org.matrix.msc3381.poll.disclosed" and unstable["max_selections"] == 1
    assert [a["id"] for a in unstable["answers"]] == ["a1", "a2"]
    assert start["m.poll"]["answers"][1] == {"m.id": "a2", "m.text": [{"body": "nee"}]}
    assert "@room" not in start["body"]
    assert poll_answers({"m.selections": ["a2"]}) == ["a2"]
    assert poll_answers({"org.matrix.msc3381.poll.response": {"answers": ["a1"]}}) == ["a1"]
    assert poll_answers({"org.matrix.msc3381.poll.response": "rommel"}) == []
    assert answer_index("a2") == 1 and answer_index("x") is None


def test_failures_are_sorted_as_the_outbox_reads_them() -> None:
    limited = sorted_error(RoomSendError("Too Many Requests", "M_LIMIT_EXCEEDED", retry_after_ms=1500))
    assert isinstance(limited, DeliveryDelayed) and limited.retry_after == 1.5
    assert isinstance(sorted_error(RoomSendError("You are not in this room", "M_FORBIDDEN")), DeliveryRefused)
    assert isinstance(sorted_error(RoomSendError("unknown error")), DeliveryDelayed)


def test_reply_fallbacks_are_stripped() -> None:
    assert strip_reply_fallback("> <@a:b> eerder\n> nog\n\n!expertise gedrag") == "!expertise gedrag"
    assert strip_reply_fallback("!expertise") == "!expertise"


def test_channel_roles_per_platform_invitations_and_coordinators() -> None:
    settings = make_settings("sqlite+aiosqlite://", channel_consultants="C0CONS",
                             matrix_room_consultants="!cons:swv.nl", matrix_user_id="@bot:swv.nl",
                             coordinators=frozenset({"matrix:@marieke:swv.nl"}))
    assert settings.channel("consultants") == "C0CONS"
    assert settings.channel("consultants", "slack") == "C0CONS"
    assert settings.channel("consultants", "matrix") == "!cons:swv.nl"
    assert settings.channel("proposals", "matrix") == ""
    assert settings.channel("!room:swv.nl", "matrix") == "!room:swv.nl"
    assert settings.matrix_may_invite("@anna:swv.nl") and not settings.matrix_may_invite("@eve:evil.example")
    listed = make_settings("sqlite+aiosqlite://", matrix_allowed=frozenset({"@eve:evil.example", ":school.nl"}))
    assert listed.matrix_may_invite("@eve:evil.example") and listed.matrix_may_invite("@jan:school.nl")
    assert not listed.matrix_may_invite("@anna:swv.nl") and not listed.matrix_may_invite("@x:notschool.nl")
    assert settings.is_coordinator("matrix", "@marieke:swv.nl") and not settings.is_coordinator("matrix", "@x:swv.nl")
