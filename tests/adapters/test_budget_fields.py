"""The multi-choice field of the budget round's ballot: Slack checkboxes, Matrix "1,3" answers."""

from __future__ import annotations

from bot.adapters.matrix.forms import value_of
from bot.adapters.slack.render import _input_element, form_values
from bot.core.reply import Choice, FieldKind, FormField

FIELD = FormField("pitches", "Welke pitches steun je?", FieldKind.MULTI_CHOICE, required=False, initial="7,9",
                  choices=(Choice("3", "#3 Groeiklas"), Choice("7", "#7 Gedrag"), Choice("9", "#9 <b>x</b>")))


def test_slack_renders_checkboxes_with_the_current_ballot_ticked_and_reads_them_back() -> None:
    element = _input_element(FIELD)
    assert element["type"] == "checkboxes"
    assert [o["value"] for o in element["options"]] == ["3", "7", "9"]
    assert [o["value"] for o in element["initial_options"]] == ["7", "9"]
    view = {"state": {"values": {"pitches": {"input": {"type": "checkboxes", "selected_options": [
        {"value": "3"}, {"value": "9"}]}}}}}
    assert form_values(view) == {"pitches": "3,9"}
    none = {"state": {"values": {"pitches": {"input": {"type": "checkboxes", "selected_options": []}}}}}
    assert form_values(none) == {"pitches": ""}


def test_matrix_takes_the_listed_numbers() -> None:
    assert value_of(FIELD, "1, 3") == "3,9"
    assert value_of(FIELD, "1,4") is None  # there is no fourth pitch
    assert value_of(FIELD, "ok") == "7,9"  # keeps the current ballot
