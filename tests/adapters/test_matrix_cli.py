"""`netwerkbot matrix` as an administrator runs it: a real process against the session's Synapse."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from tests.synapse import PASSWORD, Person, Synapse, joined

NETWERKBOT = Path(sys.executable).with_name("netwerkbot")


def environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NETWERKBOT_", "SLACK_", "MATRIX_")) and k != "DATABASE_URL"}
    return env | {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", **settings}


def test_missing_settings_and_a_wrong_password_are_said_in_dutch(tmp_path: Path, synapse: Synapse) -> None:
    missing = subprocess.run([str(NETWERKBOT), "matrix"], cwd=tmp_path, env=environment(tmp_path),
                             capture_output=True, timeout=120, check=False)
    assert missing.returncode == 2
    assert "Kan niet met Matrix verbinden; niet ingesteld: MATRIX_HOMESERVER, MATRIX_USER_ID" in missing.stderr.decode()
    wrong = subprocess.run([str(NETWERKBOT), "matrix"], cwd=tmp_path, capture_output=True, timeout=120, check=False,
                           env=environment(tmp_path, MATRIX_HOMESERVER=synapse.url, MATRIX_USER_ID="@niemand:localhost",
                                           MATRIX_PASSWORD="fout"))
    assert wrong.returncode == 2 and "Inloggen op Matrix mislukt" in wrong.stderr.decode()


async def test_the_command_answers_and_stops_on_sigterm(tmp_path: Path, synapse: Synapse) -> None:
    suffix = uuid.uuid4().hex[:8]
    bot_id, _ = await synapse.register(f"netwerkbot-{suffix}")
    anna = await Person(synapse, f"anna-{suffix}").start()
    process = await asyncio.create_subprocess_exec(
        str(NETWERKBOT), "matrix", cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env=environment(tmp_path, MATRIX_HOMESERVER=synapse.url, MATRIX_USER_ID=bot_id, MATRIX_PASSWORD=PASSWORD))
    try:
        room = await anna.create_room(invite=(bot_id,))
        await joined(anna, room, bot_id, within=60)
        await anna.send(room, "!expertise")
        answer = await anna.reply_from(bot_id, room, contains="expertise", within=30)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 60)
        await anna.close()
    assert "!expertise toevoegen" in str(answer["content"]["body"])
    assert process.returncode == 0, output.decode()[-2000:]
