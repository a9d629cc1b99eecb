"""slack/manifest.json: pasting it must create an app with every command, and exactly the scopes the code needs.

A command missing from the manifest does not exist on Slack; a scope missing makes a Web API call
fail with `missing_scope` in front of a user; a scope too many is asked of every workspace admin for
nothing. The Web API methods the adapter calls are read from its source (`self.client.<method>(`),
so a new call without its scope fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bot.adapters import slack
from bot.app import build
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "slack" / "manifest.json"
ADAPTER = Path(slack.__file__).parent

# The bot-token scopes each Web API method needs (api.slack.com/methods/<method>).
METHOD_SCOPES: dict[str, frozenset[str]] = {
    "auth.test": frozenset(),
    "chat.postMessage": frozenset({"chat:write"}),
    "chat.postEphemeral": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    "views.open": frozenset(),
    # the group of the "Stuur bericht" button is an mpim; with nobody else reachable it is an im
    "conversations.open": frozenset({"im:write", "mpim:write"}),
    "users.info": frozenset({"users:read", "users:read.email"}),  # fetch_profile reads the e-mail address
    # the message under a reaction, in the public and private channels the bot listens in
    "conversations.history": frozenset({"channels:history", "groups:history"}),
    "conversations.replies": frozenset({"channels:history", "groups:history"}),
    "chat.getPermalink": frozenset(),
    # files.uploadV2 (an export as a file): both steps need files:write
    "files.getUploadURLExternal": frozenset({"files:write"}),
    "files.completeUploadExternal": frozenset({"files:write"}),
    # who is in the circles' channels, public and private
    "conversations.members": frozenset({"channels:read", "groups:read"}),
}
EVENT_SCOPES = {"message.channels": "channels:history", "message.groups": "groups:history",
                "message.im": "im:history", "message.mpim": "mpim:history", "reaction_added": "reactions:read",
                "member_joined_channel": "channels:read", "member_left_channel": "channels:read",
                "app_home_opened": ""}  # the Home tab (issue 17) needs no scope


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return data


def adapter_source() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(ADAPTER.glob("*.py")))


def called_methods() -> set[str]:
    """Web API methods the adapter calls: `self.client.chat_postMessage(` → chat.postMessage."""
    source = adapter_source()
    found = {f"{family}.{name}" for family, name in re.findall(r"\bself\.client\.([a-z]+)_([A-Za-z]+)\(", source)}
    if re.search(r"\bclient\.files_upload_v2\(", source):  # slack_sdk's three steps; the upload URL needs no scope
        found |= {"files.getUploadURLExternal", "files.completeUploadExternal"}
    return found


def test_every_command_of_the_bot_is_in_the_manifest(sqlite_url: str) -> None:
    bot = build(make_settings(sqlite_url))

    commands = {c["command"] for c in manifest()["features"]["slash_commands"]}

    assert commands == {f"/{name}" for name in bot.registry.commands}


def test_every_command_has_a_dutch_description_and_usage_hint() -> None:
    for command in manifest()["features"]["slash_commands"]:
        assert command["description"] and command["usage_hint"], command["command"]
        assert command["should_escape"] is False  # the bot reads <@U…> itself, not Slack's escaped form
        assert command["url"].endswith(slack.EVENTS_PATH)


def test_the_scopes_are_exactly_those_the_code_needs() -> None:
    methods = called_methods()
    assert {"chat.postMessage", "views.open", "conversations.open", "users.info"} <= methods  # the scan works
    unknown = methods - METHOD_SCOPES.keys()
    assert not unknown, f"add the scopes of {unknown} to METHOD_SCOPES and the manifest"
    settings = manifest()["settings"]
    needed = {"commands"} | {scope for m in methods for scope in METHOD_SCOPES[m]}
    needed |= {EVENT_SCOPES[event] for event in settings["event_subscriptions"]["bot_events"]} - {""}

    assert set(manifest()["oauth_config"]["scopes"]["bot"]) == needed


def test_the_circles_events_are_subscribed() -> None:
    """Ideas come from 💡 reactions and from messages, their edits and deletions, in public and private channels."""
    events = manifest()["settings"]["event_subscriptions"]["bot_events"]

    assert {"message.channels", "message.groups", "reaction_added"} <= set(events)
    assert {"reactions:read", "channels:history", "groups:history"} <= set(manifest()["oauth_config"]["scopes"]["bot"])


def test_events_and_interactivity_reach_the_adapter_over_http() -> None:
    settings = manifest()["settings"]
    listened = set(re.findall(r'self\.app\.event\("([a-z_]+)"\)', adapter_source()))

    assert {event.split(".")[0] for event in settings["event_subscriptions"]["bot_events"]} <= listened
    assert settings["event_subscriptions"]["request_url"].endswith(slack.EVENTS_PATH)
    assert settings["interactivity"] == {"is_enabled": True, "request_url": "https://YOUR-HOST/slack/events"}
    assert settings["socket_mode_enabled"] is False
    assert manifest()["display_information"]["name"] == "netwerkbot"
