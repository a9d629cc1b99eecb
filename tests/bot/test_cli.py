"""The `netwerkbot` command line as an administrator runs it: calendar export and a broken meetings file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import icalendar

NETWERKBOT = Path(sys.executable).with_name("netwerkbot")


def netwerkbot(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETWERKBOT_", "SLACK_")) and k != "DATABASE_URL"}
    env |= {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", **settings}
    return subprocess.run([str(NETWERKBOT), *args], cwd=tmp_path, env=env, capture_output=True, timeout=120,
                          check=False)


def test_agenda_export_writes_a_calendar_a_calendar_program_can_read(tmp_path: Path) -> None:
    done = netwerkbot(tmp_path, "agenda", "export", "consulenten")
    assert done.returncode == 0, done.stderr
    calendar = icalendar.Calendar.from_ical(done.stdout)
    assert str(calendar["X-WR-CALNAME"]) == "Consulentenoverleg"
    events = list(calendar.walk("VEVENT"))
    assert len(events) > 50  # two months back, a year ahead, every Tuesday
    assert {str(e["SUMMARY"]) for e in events} >= {"Consulentenoverleg – afstemmingsoverleg",
                                                     "Consulentenoverleg – de verdieping"}
    assert any(str(e["STATUS"]) == "CANCELLED" for e in events)

    unknown = netwerkbot(tmp_path, "agenda", "export", "kerstborrel")
    assert unknown.returncode == 2 and not unknown.stdout
    assert "Geen overlegreeks \"kerstborrel\". Kies uit: consulenten, binnenkring" in unknown.stderr.decode()


def test_a_broken_meetings_file_stops_the_bot_with_a_dutch_message(tmp_path: Path) -> None:
    broken = tmp_path / "overleg.toml"
    broken.write_text('[[series]]\nkey = "x"\nchannel = "consultants"\nweekday = "dinsdg"\nstart = "09:00"\n'
                      'end = "10:00"\n', encoding="utf-8")
    done = netwerkbot(tmp_path, "db", "upgrade", NETWERKBOT_MEETINGS_FILE=str(broken))
    assert done.returncode == 2
    assert done.stderr.decode().strip() == "overleg.toml, serie 'x': weekday 'dinsdg' onbekend; gebruik maandag … " \
                                           "zondag."
