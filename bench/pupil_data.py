"""The pupil-data check (handlers/pupils/check.py): precision, recall, false alarms and time per message.

    .venv/bin/python bench/pupil_data.py            the bot's check on bench/pupil_data.toml
    python bench/pupil_data.py --deduce             also `deduce` (in a venv that has it) on the same set

Scoring, per message: a message labelled with pupil data is found when the check reports anything
(recall = found / labelled with pupil data); an ordinary message is a false alarm when the check
reports anything (false-alarm rate = false alarms / ordinary messages; precision = found / reported).
Per kind: a labelled kind is found when the check reports that kind. Goal, on each part:
recall >= 0.95 and false alarms <= 5 %. The `held_out` part was never tuned on.
Speed: every message screened ROUNDS times, warm; mean and p99 per message.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.pupils.check import KINDS, screen  # noqa: E402

LABELLED = Path(__file__).resolve().parent / "pupil_data.toml"
TODAY = date(2026, 12, 4)  # the set was written on this day: "two to twenty years back" counts from it
RECALL_GOAL = 0.95
FALSE_ALARM_GOAL = 0.05
PARTS = ("tuned", "held_out")
ROUNDS = 50


@dataclass(frozen=True)
class Message:
    text: str
    kinds: frozenset[str]


@dataclass
class Score:
    labelled: int = 0
    found: int = 0
    ordinary: int = 0
    false_alarms: int = 0
    kind_labelled: dict[str, int] = field(default_factory=dict)
    kind_found: dict[str, int] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.found / self.labelled if self.labelled else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.ordinary if self.ordinary else 0.0

    @property
    def precision(self) -> float:
        reported = self.found + self.false_alarms
        return self.found / reported if reported else 1.0


def load(path: Path = LABELLED) -> dict[str, list[Message]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {part: [Message(text, frozenset(k for k in kinds.split(",") if k)) for text, kinds in data[part]]
            for part in PARTS}


def bot_check(text: str) -> frozenset[str]:
    return frozenset(screen(text, TODAY).kinds)


def measure(messages: Sequence[Message], check: Callable[[str], frozenset[str]] = bot_check) -> Score:
    score = Score()
    for message in messages:
        reported = check(message.text)
        if message.kinds:
            score.labelled += 1
            if reported:
                score.found += 1
            else:
                score.misses.append(message.text)
            for kind in message.kinds:
                score.kind_labelled[kind] = score.kind_labelled.get(kind, 0) + 1
                if kind in reported:
                    score.kind_found[kind] = score.kind_found.get(kind, 0) + 1
        else:
            score.ordinary += 1
            if reported:
                score.false_alarms += 1
                score.alarms.append(message.text)
    return score


def timing(messages: Sequence[Message], check: Callable[[str], frozenset[str]], rounds: int
           ) -> tuple[float, float, float]:
    """Mean, p50 and p99 microseconds per message, warm."""
    for message in messages:
        check(message.text)
    times: list[float] = []
    for _ in range(rounds):
        for message in messages:
            start = time.perf_counter()
            check(message.text)
            times.append((time.perf_counter() - start) * 1e6)
    times.sort()
    return statistics.fmean(times), times[len(times) // 2], times[int(len(times) * 0.99)]


def deduce_check() -> Callable[[str], frozenset[str]]:
    """`deduce` as a pupil-data check: anything it annotates (a person, a date, an address, a number) counts."""
    import deduce  # type: ignore[import-not-found]  # only for the comparison; not a dependency

    model = deduce.Deduce()

    def check(text: str) -> frozenset[str]:
        return frozenset(a.tag for a in model.deidentify(text).annotations)

    return check


def report(name: str, parts: dict[str, list[Message]], check: Callable[[str], frozenset[str]], rounds: int,
           verbose: bool) -> bool:
    met = True
    print(f"== {name}")
    for part in PARTS:
        score = measure(parts[part], check)
        ok = score.recall >= RECALL_GOAL and score.false_alarm_rate <= FALSE_ALARM_GOAL
        met &= ok
        print(f"{part:9} {score.labelled:3} with pupil data, {score.ordinary:3} ordinary: "
              f"recall {score.recall:.3f}  precision {score.precision:.3f}  "
              f"false alarms {score.false_alarms}/{score.ordinary} = {score.false_alarm_rate:.1%}  "
              f"{'met' if ok else 'NOT met'}")
        kinds = "  ".join(f"{k} {score.kind_found.get(k, 0)}/{score.kind_labelled[k]}"
                          for k in KINDS if k in score.kind_labelled)
        print(f"{'':9} per kind: {kinds}")
        if verbose:
            for text in score.misses:
                print(f"{'':9} missed: {text}")
            for text in score.alarms:
                print(f"{'':9} false alarm: {text}")
    everything = [m for part in PARTS for m in parts[part]]
    mean, p50, p99 = timing(everything, check, rounds)
    print(f"time per message: mean {mean:.1f} µs, p50 {p50:.1f} µs, p99 {p99:.1f} µs "
          f"({len(everything)} messages × {rounds} rounds)")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deduce", action="store_true", help="also score the deduce library on the same set")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--verbose", action="store_true", help="list the misses and false alarms")
    args = parser.parse_args()
    parts = load()
    met = report("netwerkbot (handlers/pupils/check.py)", parts, bot_check, args.rounds, args.verbose)
    if args.deduce:
        report("deduce", parts, deduce_check(), max(1, args.rounds // 10), args.verbose)
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
