"""`netwerkbot teams` as a service runs it: the real server process, answering an activity through the fake
Bot Connector its serviceUrl names, refusing unsigned requests when credentials are set, and stopping cleanly
on SIGTERM."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from tests.adapters.test_slack_e2e import NETWERKBOT, clean_env, free_port, terminate
from tests.fake_teams import FakeConnector, Person, TeamsSender, card_texts

PIET = Person("29:piet", "aad-piet", "Piet Jansen")


@asynccontextmanager
async def served(tmp_path: Path, **env: str) -> AsyncIterator[tuple[FakeConnector, int, asyncio.subprocess.Process]]:
    fake = await FakeConnector().start()
    port = free_port()
    variables = {k: v for k, v in clean_env(tmp_path, **env).items() if not k.startswith("TEAMS_")} | env
    process = await asyncio.create_subprocess_exec(str(NETWERKBOT), "teams", "--port", str(port), cwd=tmp_path,
                                                   env=variables, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        async with aiohttp.ClientSession() as session, asyncio.timeout(60):
            while True:  # the server comes up after the migrations
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
        yield fake, port, process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await fake.close()


async def test_netwerkbot_teams_answers_over_the_connector_until_terminated(tmp_path: Path) -> None:
    async with served(tmp_path) as (fake, port, process), aiohttp.ClientSession() as session:
        teams = TeamsSender(session, f"http://127.0.0.1:{port}/api/messages", fake)
        response = await teams.message(PIET, "netwerkbot")
        assert response.status == 202
        [sent] = fake.to(f"a:personal-{PIET.aad}")
        assert "Ik ben netwerkbot" in card_texts(sent.card())
        code, stderr = await terminate(process)
    assert code == 0 and b"Traceback" not in stderr


async def test_with_credentials_an_unsigned_request_is_refused(tmp_path: Path) -> None:
    async with served(tmp_path, TEAMS_APP_ID="3f1a2b4c-5d6e-4f70-8192-a3b4c5d6e7f8",
                      TEAMS_APP_PASSWORD="s3cret") as (fake, port, _), aiohttp.ClientSession() as session:
        teams = TeamsSender(session, f"http://127.0.0.1:{port}/api/messages", fake)
        assert (await teams.message(PIET, "netwerkbot")).status == 401
        assert fake.sent == []


def test_half_the_credentials_says_what_is_missing(tmp_path: Path) -> None:
    env = {k: v for k, v in clean_env(tmp_path).items() if not k.startswith("TEAMS_")} | {"TEAMS_APP_ID": "x"}
    done = subprocess.run([str(NETWERKBOT), "teams"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "TEAMS_APP_PASSWORD" in done.stderr and "Traceback" not in done.stderr
