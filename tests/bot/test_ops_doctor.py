"""`netwerkbot doctor`: what an IT person reads, against the fake Slack, the real Synapse and a real database.

Each test breaks one thing the way it breaks in practice (a misspelt setting, a scope not granted,
the bot not invited, a message that failed, a reminder missed, holidays running out, an encrypted
room) and checks that the doctor names it, says how to fix it, and exits non-zero.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from nio import AsyncClient, DevicesResponse, JoinResponse
from sqlalchemy import insert

from bot.core.clock import ManualClock
from bot.doctor import run_doctor
from config.settings import CONFIG_DIR
from storage.models import Occurrence, OutboxMessage
from tests.conftest import make_settings, started_bot
from tests.fake_slack import TOKEN, FakeSlack
from tests.synapse import PASSWORD, Person, Synapse

ROOT = Path(__file__).resolve().parents[2]
CHANNELS: dict[str, Any] = {"channel_consultants": "C0CONSULT", "channel_inner_circle": "C0INNER",
            "channel_outer_circle": "C0OUTER", "channel_proposals": "C0PITCH"}


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = await FakeSlack().start()
    for channel in CHANNELS.values():
        slack.add_message(channel, slack.next_ts(), "UANNA", "hallo")
    try:
        yield slack
    finally:
        await slack.close()


def doctor(clock: ManualClock, env_file: Path, environ: dict[str, str], settings: dict[str, Any]) -> tuple[int, str]:
    """The doctor as the command line runs it (it starts its own event loop; `run` gives it a thread)."""
    out = io.StringIO()
    code = run_doctor(out, environ=environ, env_file=env_file, clock=clock, settings=make_settings(**settings))
    return code, out.getvalue()


async def run(clock: ManualClock, env_file: Path, *, environ: dict[str, str] | None = None,
              **settings: Any) -> tuple[int, str]:
    return await asyncio.to_thread(doctor, clock, env_file, environ or {}, settings)


async def test_a_healthy_installation_is_all_ok(database_url: str, clock: ManualClock, fake: FakeSlack,
                                               tmp_path: Path) -> None:
    async with started_bot(database_url, clock):
        pass

    code, text = await run(clock, tmp_path / ".env", database_url=database_url, slack_bot_token=TOKEN,
                           slack_signing_secret="geheim", slack_api_url=fake.url, **CHANNELS)

    assert code == 0, text
    assert "Alles in orde." in text
    assert "❌" not in text
    assert "ingelogd als netwerkbot in Netwerk" in text
    assert "de bot zit in het kanaal van binnenkring (C0INNER)" in text
    assert "vakantiedata bekend tot 2028-08-20" in text


async def test_slack_problems_are_named_with_their_fix(sqlite_url: str, clock: ManualClock, fake: FakeSlack,
                                                      tmp_path: Path) -> None:
    async with started_bot(sqlite_url, clock):
        pass
    fake.scopes.remove("reactions:read")  # the app was installed before the circles needed it
    fake.outside.add("C0INNER")  # nobody invited the bot there
    settings = CHANNELS | {"channel_proposals": "C0GONE"}

    code, text = await run(clock, tmp_path / ".env", database_url=sqlite_url, slack_bot_token=TOKEN,
                           slack_signing_secret="geheim", slack_api_url=fake.url, **settings)

    assert code == 1
    assert "❌ Slack: de app mist scopes: reactions:read" in text
    assert "installeer de app opnieuw" in text
    assert "❌ Slack: de bot zit niet in het kanaal van binnenkring (C0INNER)" in text
    assert "/invite @netwerkbot" in text
    assert "kanaal van pitches en stemmingen (C0GONE) geeft een fout: channel_not_found" in text
    assert "2 dingen zijn niet in orde." not in text  # three: scopes, membership, the wrong channel
    assert "3 dingen zijn niet in orde." in text


async def test_a_wrong_token_and_a_missing_signing_secret(sqlite_url: str, clock: ManualClock, fake: FakeSlack,
                                                         tmp_path: Path) -> None:
    async with started_bot(sqlite_url, clock):
        pass

    code, text = await run(clock, tmp_path / ".env", database_url=sqlite_url, slack_bot_token="xoxb-verkeerd",
                           slack_api_url=fake.url, **CHANNELS)

    assert code == 1
    assert "het token werkt niet (invalid_auth)" in text
    assert "SLACK_SIGNING_SECRET ontbreekt" in text


async def test_misspelt_settings_in_env_and_dotenv(sqlite_url: str, clock: ManualClock, tmp_path: Path) -> None:
    async with started_bot(sqlite_url, clock):
        pass
    env_file = tmp_path / ".env"
    env_file.write_text("# kanaal\nNETWERKBOT_CHANEL_CONSULTANTS=C0CONSULT\nNETWERKBOT_TIMEZONE=Europe/Amsterdam\n",
                        encoding="utf-8")

    code, text = await run(clock, env_file, environ={"NETWERKBOT_VOTE_NUDGE_HOUR": "12", "HOME": "/root"},
                           database_url=sqlite_url)

    assert code == 1
    assert f"NETWERKBOT_CHANEL_CONSULTANTS (in {env_file})" in text
    assert "Bedoelde je NETWERKBOT_CHANNEL_CONSULTANTS?" in text
    assert "NETWERKBOT_VOTE_NUDGE_HOUR (in de omgeving)" in text
    assert "Bedoelde je NETWERKBOT_VOTE_NUDGE_HOURS?" in text
    assert "NETWERKBOT_TIMEZONE" not in text


async def test_failed_messages_missed_reminders_and_a_stuck_outbox(database_url: str, clock: ManualClock,
                                                                  tmp_path: Path) -> None:
    now = clock.now()
    async with started_bot(database_url, clock) as bot, bot.db.engine.begin() as c:
        await c.execute(insert(OutboxMessage).values(
            key="a", channel="C0INNER", body="{}", created_at=now - timedelta(days=1), next_attempt_at=now,
            attempts=5, failed_at=now - timedelta(days=1), last_error="channel_not_found", message_ref=""))
        await c.execute(insert(OutboxMessage).values(
            key="b", channel="C0OUTER", body="{}", created_at=now - timedelta(hours=3), next_attempt_at=now,
            attempts=0, last_error="", message_ref=""))
        await c.execute(insert(Occurrence).values(
            key="meeting:x", kind="meeting_reminder", payload="{}", due_at=now - timedelta(days=2), state="missed"))
        await c.execute(insert(Occurrence).values(  # long ago: history, not a problem now
            key="meeting:y", kind="meeting_reminder", payload="{}", due_at=now - timedelta(days=60), state="missed"))

    code, text = await run(clock, tmp_path / ".env", database_url=database_url)

    assert code == 1
    assert "❌ Berichten: 1 bericht(en) van de bot konden de afgelopen week niet bezorgd worden" in text
    assert "❌ Berichten: het oudste onverstuurde bericht wacht al 180 minuten" in text
    assert "❌ Herinneringen: 1 herinnering(en) of deadline(s) zijn de afgelopen week gemist" in text


async def test_a_database_without_the_schema_and_one_not_reachable(clock: ManualClock, tmp_path: Path) -> None:
    code, text = await run(clock, tmp_path / ".env", database_url=f"sqlite+aiosqlite:///{tmp_path / 'leeg.db'}")

    assert code == 1
    assert "❌ Database: nog geen tabellen" in text
    assert "netwerkbot db upgrade" in text
    assert not (tmp_path / "leeg.db").exists()  # the check made no database

    code, text = await run(clock, tmp_path / ".env",
                           database_url="postgresql+asyncpg://postgres@127.0.0.1:1/nergens")
    assert code == 1
    assert "❌ Database: niet bereikbaar" in text


async def test_holidays_that_run_out_within_twelve_months(sqlite_url: str, clock: ManualClock,
                                                         tmp_path: Path) -> None:
    async with started_bot(sqlite_url, clock):
        pass
    short = tmp_path / "vakanties.toml"
    short.write_text((CONFIG_DIR / "school_holidays.toml").read_text(encoding="utf-8").split("# -- schooljaar 2027")[0],
                     encoding="utf-8")

    code, text = await run(clock, tmp_path / ".env", database_url=sqlite_url, school_holidays_file=short)

    assert code == 1
    assert "❌ Schoolvakanties: de vakantiedata lopen maar tot 2027-08-22" in text
    assert "netwerkbot vakanties bijwerken" in text


async def test_matrix_login_rooms_and_encryption(synapse: Synapse, sqlite_url: str, clock: ManualClock,
                                                tmp_path: Path) -> None:
    import uuid

    suffix = uuid.uuid4().hex[:8]
    bot_id, token = await synapse.register(f"doctorbot-{suffix}")
    owner = await Person(synapse, f"eigenaar-{suffix}").start()
    robot = AsyncClient(synapse.url, bot_id)
    robot.restore_login(bot_id, "BOTDEVICE", token)
    try:
        plain = await owner.create_room(invite=(bot_id,))
        secret = await owner.create_room(invite=(bot_id,), encrypted=True)
        elsewhere = await owner.create_room()
        for room in (plain, secret):
            assert isinstance(await robot.join(room), JoinResponse)
        async with started_bot(sqlite_url, clock):
            pass
        rooms: dict[str, Any] = {"matrix_room_consultants": plain, "matrix_room_inner_circle": secret,
                 "matrix_room_outer_circle": elsewhere}

        code, text = await run(clock, tmp_path / ".env", database_url=sqlite_url, matrix_homeserver=synapse.url,
                               matrix_user_id=bot_id, matrix_password=PASSWORD, **rooms)

        assert code == 1
        assert f"✅ Matrix: ingelogd als {bot_id}" in text
        assert f"✅ Matrix: de bot zit in de ruimte van consulentenoverleg ({plain}), onversleuteld" in text
        assert f"✅ Matrix: de bot zit in de ruimte van binnenkring ({secret}), versleuteld (end-to-end)" in text
        assert f"❌ Matrix: de bot zit niet in de ruimte van buitenkring ({elsewhere})" in text
        assert "⚠️  Matrix: geen ruimte ingesteld voor pitches en stemmingen" in text
        devices = await robot.devices()
        assert isinstance(devices, DevicesResponse)
        assert [d.display_name for d in devices.devices if d.display_name == "netwerkbot doctor"] == []

        code, text = await run(clock, tmp_path / ".env", database_url=sqlite_url, matrix_homeserver=synapse.url,
                               matrix_user_id=bot_id, matrix_password="verkeerd")
        assert code == 1
        assert "❌ Matrix: inloggen mislukt" in text
    finally:
        await robot.close()
        await owner.close()


def test_the_command_reports_unreadable_settings_in_dutch(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETWERKBOT_", "SLACK_", "MATRIX_"))}
    env |= {"NETWERKBOT_VOTE_NUDGE_HOURS": "veel", "NETWERKBOT_TIMZONE": "Europe/Amsterdam",
            "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "doctor"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60, check=False)

    assert done.returncode == 1, done.stderr
    assert "vote_nudge_hours" in done.stdout
    assert "Bedoelde je NETWERKBOT_TIMEZONE?" in done.stdout
    assert "Traceback" not in done.stderr
