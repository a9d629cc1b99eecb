"""`netwerkbot teams pakket`: the Teams app package (manifest.json, color.png, outline.png in one zip) to
upload in the Teams admin center (or Apps → Manage your apps → Upload an app).

The manifest declares the bot (personal chat, team channels, group chats) with its command menu (the same
commands as the Slack app's slash commands, read from slack/manifest.json so the two never differ), and
the message extension action "Maak er een idee van" on a message. Icons are drawn here (Pillow): a color
icon of 192×192 and a white-on-transparent outline icon of 32×32, as Teams requires.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from bot.adapters.teams.adapter import IDEA_COMMAND
from config.i18n import Catalog
from config.settings import Settings

MANIFEST_VERSION = "1.17"
SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
SLACK_MANIFEST = Path(__file__).resolve().parents[3] / "slack" / "manifest.json"
APP_VERSION = "1.0.0"
COLOR = (37, 99, 235)  # the bot's blue
MAX_COMMANDS = 10  # Teams shows at most 10 commands per scope
MAX_TITLE = 32
MAX_DESCRIPTION = 128


def commands() -> list[dict[str, str]]:
    """The command menu: the Slack app's slash commands (title without slash, a short description)."""
    slack = json.loads(SLACK_MANIFEST.read_text(encoding="utf-8"))
    return [{"title": c["command"].lstrip("/")[:MAX_TITLE], "description": c["description"][:MAX_DESCRIPTION]}
            for c in slack["features"]["slash_commands"]][:MAX_COMMANDS]


def manifest(settings: Settings, t: Catalog, app_id: str) -> dict[str, Any]:
    scopes = ["personal", "team", "groupChat"]
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": APP_VERSION,
        "id": app_id,
        "developer": {"name": "netwerkbot", "websiteUrl": "https://github.com/netwerkbot",
                      "privacyUrl": "https://github.com/netwerkbot/blob/main/PRIVACY.md",
                      "termsOfUseUrl": "https://github.com/netwerkbot/blob/main/README.md"},
        "name": {"short": "netwerkbot", "full": "netwerkbot"},
        "description": {"short": t("teams.app_short"), "full": t("teams.app_full")},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*COLOR),
        "bots": [{"botId": app_id, "scopes": scopes, "supportsFiles": False, "isNotificationOnly": False,
                  "commandLists": [{"scopes": scopes, "commands": commands()}]}],
        "composeExtensions": [{"botId": app_id, "commands": [{
            "id": IDEA_COMMAND, "type": "action", "context": ["message"], "fetchTask": False,
            "title": t("teams.idea_action")[:MAX_TITLE], "description": t("teams.idea_action_hint")[:MAX_DESCRIPTION],
            "parameters": [{"name": "bericht", "title": t("teams.idea_action")[:MAX_TITLE], "inputType": "text"}]}]}],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
        "webApplicationInfo": {"id": app_id, "resource": f"api://botid-{app_id}"},
    }


def icon(size: int, *, outline: bool) -> bytes:
    """A speech balloon: on the bot's blue (color), or white on transparent (outline)."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0) if outline else (*COLOR, 255))
    draw = ImageDraw.Draw(image)
    white = (255, 255, 255, 255)
    margin = size // 5
    draw.rounded_rectangle((margin, margin, size - margin, size - margin - size // 8), radius=size // 8,
                           fill=None if outline else white, outline=white, width=max(1, size // 16))
    draw.polygon([(size // 3, size - margin - size // 8), (size // 3, size - margin // 2),
                  (size // 2, size - margin - size // 8)], fill=white)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def package(settings: Settings, t: Catalog) -> bytes:
    """The zip Teams takes: manifest.json and both icons at its top level."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("manifest.json", json.dumps(manifest(settings, t, settings.teams_app_id), indent=2,
                                                    ensure_ascii=False))
        zipped.writestr("color.png", icon(192, outline=False))
        zipped.writestr("outline.png", icon(32, outline=True))
    return out.getvalue()


def write_package(settings: Settings, path: str) -> int:
    t = Catalog(settings.language)
    if not settings.teams_app_id:
        print(t("teams.missing_settings", names="TEAMS_APP_ID"), file=sys.stderr)
        return 2
    Path(path).write_bytes(package(settings, t))
    print(t("teams.package_written", path=path))
    return 0
