"""Reply → Block Kit and Form → modal: within Slack's limits, and no user text can ping or disguise a link.

Every rendered message is also checked with the fake Slack's own Block Kit checks, the ones that
make Slack refuse a message with `invalid_blocks`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.adapters.slack import escape, form_errors, form_values, message, modal, pressed_action, render
from bot.core.reply import (
    Actions,
    Audience,
    Button,
    Choice,
    Context,
    FieldKind,
    Fields,
    Form,
    FormField,
    FormRejected,
    Heading,
    Item,
    Mention,
    Reply,
    Style,
    Text,
)
from config.i18n import Catalog
from tests.fake_slack import block_problems, view_problems

T = Catalog("nl")
NASTY = "<!channel> <!here> <@U0EVIL> <http://evil.example|gratis> & co"
INERT = "&lt;!channel&gt; &lt;!here&gt; &lt;@U0EVIL&gt; &lt;http://evil.example|gratis&gt; &amp; co"


def blocks_of(*parts: Any, **options: Any) -> list[dict[str, Any]]:
    _, blocks = render(Reply(tuple(parts), **options), T)
    assert block_problems(blocks) == [], block_problems(blocks)
    return blocks


def mrkdwn(blocks: list[dict[str, Any]]) -> str:
    """All the mrkdwn in the blocks: what Slack would parse for mentions and links."""
    found = []
    for block in blocks:
        for text in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(text, dict) and text.get("type") == "mrkdwn":
                found.append(text["text"])
    return "\n".join(found)


def test_user_text_cannot_mention_anyone_or_disguise_a_link() -> None:
    blocks = blocks_of(Text(NASTY), Context(NASTY), Fields(((NASTY, NASTY),)),
                       Item(NASTY, lines=(NASTY,), mention=Mention(NASTY, (("slack", "<!channel>"),))))
    text, _ = render(Reply((Text(NASTY),)), T)

    shown = mrkdwn(blocks)
    assert "<" not in shown and ">" not in shown
    assert shown.count(INERT) == 6
    assert text == INERT  # the notification text too


def test_a_mention_comes_only_from_the_mention_part() -> None:
    anna = Mention("Anna Bakker", (("matrix", "@anna:example.org"), ("slack", "U0ANNA")))
    blocks = blocks_of(Item("Anna Bakker", lines=("IB-er · De Zandloper",), mention=anna),
                       Item("Bert Smit", mention=Mention("Bert Smit")))

    assert blocks[0]["text"]["text"] == "*Anna Bakker* <@U0ANNA>\nIB-er · De Zandloper"
    assert blocks[1]["text"]["text"] == "*Bert Smit*"


def test_long_text_is_split_over_sections_without_losing_or_breaking_anything() -> None:
    lines = [f"regel {n}: " + "a & b " * 40 for n in range(60)]  # ~15,000 characters once escaped
    blocks = blocks_of(Text("\n".join(lines)))

    assert len(blocks) > 1
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks)
    assert "\n".join(b["text"]["text"] for b in blocks) == escape("\n".join(lines))


def test_a_single_huge_line_is_cut_without_splitting_an_entity() -> None:
    blocks = blocks_of(Text("x" + "<" * 4000))  # the "x" puts an entity across the 3000th character

    pieces = [b["text"]["text"] for b in blocks]
    assert len(pieces) == 6 and all(len(p) <= 3000 for p in pieces)
    assert all(re.fullmatch(r"x?(&lt;)+", p) for p in pieces)
    assert "".join(pieces) == "x" + "&lt;" * 4000


def test_heading_fields_labels_and_values_are_kept_within_slack_limits() -> None:
    blocks = blocks_of(Heading("H" * 200), Fields(tuple((f"veld {n}", "w" * 2500) for n in range(12))),
                       Actions((Button("L" * 100, "a.b", "v" * 2500),)))

    assert blocks[0]["text"]["text"] == "H" * 149 + "…"
    assert [len(b["fields"]) for b in blocks[1:3]] == [10, 2]
    assert all(len(f["text"]) <= 2000 and f["text"].endswith("…") for b in blocks[1:3] for f in b["fields"])
    element = blocks[3]["elements"][0]
    assert element["text"]["text"] == "L" * 74 + "…"
    assert len(element["value"]) == 2000


def test_buttons_get_unique_action_ids_that_map_back_to_their_handler() -> None:
    blocks = blocks_of(Item("Anna", buttons=(Button("Nog actueel", "expertise.confirm", "7", Style.PRIMARY),
                                             Button("Verwijderen", "expertise.remove", "7", Style.DANGER))),
                       Item("Bert", buttons=(Button("Nog actueel", "expertise.confirm", "8"),)),
                       Actions(tuple(Button(f"knop {n}", "expertise.page", str(n)) for n in range(30))))

    elements = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    ids = [e["action_id"] for e in elements]
    assert len(set(ids)) == len(ids) == 33
    assert [pressed_action(i) for i in ids[:3]] == ["expertise.confirm", "expertise.remove", "expertise.confirm"]
    assert [e.get("style") for e in elements[:3]] == ["primary", "danger", None]
    assert [len(b["elements"]) for b in blocks if b["type"] == "actions"] == [2, 1, 25, 5]


def test_a_button_without_value_has_no_value_and_presses_as_empty() -> None:
    blocks = blocks_of(Actions((Button("Toon", "expertise.overview"),)))

    assert "value" not in blocks[0]["elements"][0]
    assert pressed_action("plain.id") == "plain.id"  # an action id that came without our suffix


def test_more_than_50_blocks_are_cut_and_say_so() -> None:
    blocks = blocks_of(*(Item(f"Lid {n}") for n in range(80)))

    assert len(blocks) == 50
    assert blocks[-1]["type"] == "context"
    assert "ingekort" in blocks[-1]["elements"][0]["text"]


def test_errors_are_marked_and_audience_decides_who_sees_it() -> None:
    error = message(Reply.text("Dat ging mis", error=True), T)
    shared = message(Reply.text("Voor iedereen", audience=Audience.CHANNEL), T)

    assert error["blocks"][0]["text"]["text"] == ":warning: Dat ging mis"
    assert (error["response_type"], shared["response_type"]) == ("ephemeral", "in_channel")


FORM = Form("proposal.add", "Een idee pitchen voor de trimestervergadering", (
    FormField("title", "Titel", max_length=100, initial="Groeiklas <Noord>"),
    FormField("pitch", "Je pitch", FieldKind.LONG_TEXT, hint="Wat, voor wie, wat kost het?", max_length=5000),
    FormField("vote", "Stemmen per", FieldKind.CHOICE, choices=(Choice("school", "school"), Choice("lid", "lid")),
              initial="lid"),
    FormField("amount", "Bedrag", FieldKind.AMOUNT, required=False),
), "Indienen", state="werkgebied=noord")


def test_a_form_becomes_a_modal_slack_accepts() -> None:
    view = modal(FORM, T, "C0NETWERK")

    assert view_problems(view) == []
    assert view["callback_id"] == "proposal.add"
    assert view["title"]["text"] == "Een idee pitchen voor d…"
    assert json.loads(view["private_metadata"]) == {"state": "werkgebied=noord", "channel": "C0NETWERK"}
    title, pitch, vote, amount = view["blocks"]
    assert [b["block_id"] for b in view["blocks"]] == ["title", "pitch", "vote", "amount"]
    assert title["element"] == {"type": "plain_text_input", "action_id": "value", "multiline": False,
                                "max_length": 100, "initial_value": "Groeiklas <Noord>"}
    assert (pitch["element"]["multiline"], pitch["element"]["max_length"]) == (True, 3000)
    assert pitch["hint"]["text"] == "Wat, voor wie, wat kost het?"
    assert vote["element"]["type"] == "static_select"
    assert vote["element"]["initial_option"]["value"] == "lid"
    assert (amount["optional"], title["optional"]) == (True, False)


def test_submitted_values_come_back_by_field_name() -> None:
    view = {"state": {"values": {
        "title": {"value": {"type": "plain_text_input", "value": "Groeiklas"}},
        "pitch": {"value": {"type": "plain_text_input", "value": None}},
        "vote": {"value": {"type": "static_select", "selected_option": {"value": "school"}}},
        "amount": {"value": {"type": "plain_text_input", "value": "€ 1.200"}},
    }}}

    assert form_values(view) == {"title": "Groeiklas", "pitch": "", "vote": "school", "amount": "€ 1.200"}


@pytest.mark.parametrize(("errors", "expected"), [
    ({"pitch": "Te kort"}, {"pitch": "Te kort"}),
    ({"holder": "Onbekend"}, {"title": "Onbekend"}),  # a field the modal does not show: on the first input
])
def test_form_errors_point_at_inputs_the_modal_has(errors: dict[str, str], expected: dict[str, str]) -> None:
    assert form_errors(FormRejected(errors), modal(FORM, T, "")) == expected
