"""The chart and the Pabulib export of a budget round."""

from __future__ import annotations

from pabutools.election import Cost_Sat
from pabutools.election.pabulib import parse_pabulib_from_string
from pabutools.rules import greedy_utilitarian_welfare

from handlers.budget.allocation import allocate
from handlers.budget.outputs import RoundPitch, chart, pabulib

PITCHES = [RoundPitch(1, "Groeiklas; samen", 60_00),
           RoundPitch(2, "Gedrag", 40_00), RoundPitch(3, "Thuiszitters", 40_00)]
BALLOTS = [(f"School {i}", {1, 2}) for i in range(6)] + [(f"School {i}", {3}) for i in range(6, 10)]


def test_the_chart_is_a_png_file_part() -> None:
    result = allocate(100_00, {p.id: p.cost for p in PITCHES}, [b for _, b in BALLOTS])
    file = chart(7, 100_00, PITCHES, result)
    assert file.mime == "image/png" and file.name == "begrotingsronde-7.png"
    assert file.data.startswith(b"\x89PNG\r\n\x1a\n") and len(file.data) > 5_000


def test_the_export_recomputes_the_result_and_a_secret_round_names_nobody() -> None:
    file = pabulib(7, 100_00, PITCHES, BALLOTS, secret=True)
    text = file.data.decode()
    assert "School" not in text
    assert "Groeiklas, samen" in text  # a ';' in a title cannot break the format
    instance, profile = parse_pabulib_from_string(text)
    assert instance.budget_limit == 100_00 and profile.num_ballots() == 10
    greedy = sorted(int(p.name) for p in greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat))
    assert greedy == list(allocate(100_00, {p.id: p.cost for p in PITCHES}, [b for _, b in BALLOTS]).greedy)
