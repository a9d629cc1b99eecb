"""With TEAMS_APP_ID and TEAMS_APP_PASSWORD set, only activities with a valid Bot Framework token are handled.

The SDK's own check runs (signature, audience, expiry); the only thing redirected is where it fetches the
Bot Framework's public keys: the SDK has that address built in (login.botframework.com), so the test points
it at the fake's JWKS, whose key signs the tokens. The bot's own outgoing token (MSAL, from Entra ID) cannot
be fetched here: a token provider of the test stands in for MSAL, and the fake records that it came along.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from microsoft_agents.hosting.core import AccessTokenProviderBase, AgentAuthConfiguration
from microsoft_agents.hosting.core.authorization import _entra_issuers

from bot.core.clock import ManualClock
from tests.adapters.test_teams_e2e import PIET, World, running
from tests.fake_teams import BOT_FRAMEWORK_ISSUER, FakeConnector, rsa_key

APP_ID = "3f1a2b4c-5d6e-4f70-8192-a3b4c5d6e7f8"
OUTGOING = "outgoing-token-from-entra"


class StandIn(AccessTokenProviderBase):
    """MSAL's place: the bot's token for the Bot Connector."""

    def __init__(self, configuration: AgentAuthConfiguration) -> None:
        self._configuration = configuration

    @property
    def configuration(self) -> AgentAuthConfiguration:
        return self._configuration

    def get_token_credential(self) -> Any:
        raise NotImplementedError

    async def get_access_token(self, resource_url: str, scopes: list[str], force_refresh: bool = False) -> str:
        return OUTGOING


@pytest.fixture
async def world(sqlite_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    fake = await FakeConnector().start()
    monkeypatch.setitem(_entra_issuers.BOTFRAMEWORK_JWKS_URIS, BOT_FRAMEWORK_ISSUER, fake.jwks_url())
    async with running(sqlite_url, clock, StandIn, fake, teams_app_id=APP_ID, teams_app_password="s3cret") as w:
        yield w


async def test_a_valid_token_is_answered_with_the_bots_own_token(world: World) -> None:
    world.teams.token = world.fake.token(APP_ID)
    response = await world.teams.message(PIET, "vliegtuig")
    assert response.status == 202
    [sent] = world.fake.to(f"a:personal-{PIET.aad}")
    assert sent.token == OUTGOING


@pytest.mark.parametrize("case", ["none", "other key", "other audience", "expired", "not a token"])
async def test_requests_without_a_valid_token_are_refused_and_change_nothing(world: World, case: str) -> None:
    tokens = {"none": "", "other key": world.fake.token(APP_ID, key=rsa_key()),
              "other audience": world.fake.token("someone-elses-bot"),
              "expired": world.fake.token(APP_ID, lifetime=-1000), "not a token": "abc.def.ghi"}
    world.teams.token = tokens[case]
    response = await world.teams.message(PIET, "pitch")
    assert response.status == 401
    assert world.fake.sent == []
    async with world.bot.db.transaction() as repos:
        assert await repos.members.by_identity("teams", PIET.aad) is None
