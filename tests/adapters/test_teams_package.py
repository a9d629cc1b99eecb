"""`netwerkbot teams pakket`: the Teams app package validates against the vendored manifest schema (v1.17)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest
from PIL import Image

from bot.cli import main

SCHEMA = Path(__file__).resolve().parents[1] / "teams" / "MicrosoftTeams.schema.json"
APP_ID = "3f1a2b4c-5d6e-4f70-8192-a3b4c5d6e7f8"


def written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> zipfile.ZipFile:
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    target = tmp_path / "netwerkbot-teams.zip"
    assert main(["teams", "pakket", "--uit", str(target)]) == 0
    return zipfile.ZipFile(io.BytesIO(target.read_bytes()))


def test_the_manifest_validates_against_the_teams_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = written(tmp_path, monkeypatch)
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
    manifest = json.loads(package.read("manifest.json"))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(manifest)
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID
    titles = [c["title"] for c in bot["commandLists"][0]["commands"]]
    assert {"expertise", "pitch", "stemming", "overleg", "idee", "netwerkbot"} <= set(titles)
    [action] = manifest["composeExtensions"][0]["commands"]
    assert action["type"] == "action" and action["context"] == ["message"]
    assert action["title"] == "Maak er een idee van"


def test_a_manifest_without_a_bot_fails_the_schema() -> None:
    """The vendored schema really checks (a broken manifest does not pass)."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate({"manifestVersion": "1.17", "id": "not-a-guid"})


def test_the_icons_are_the_sizes_teams_requires(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = written(tmp_path, monkeypatch)
    color = Image.open(io.BytesIO(package.read("color.png")))
    outline = Image.open(io.BytesIO(package.read("outline.png")))
    assert (color.format, color.size) == ("PNG", (192, 192))
    assert (outline.format, outline.size, outline.mode) == ("PNG", (32, 32), "RGBA")
    seen = [outline.getpixel((x, y)) for x in range(32) for y in range(32)]
    pixels = [p for p in seen if isinstance(p, tuple) and p[3]]
    assert pixels and all(p[:3] == (255, 255, 255) for p in pixels), "outline: white on transparent only"


def test_without_an_app_id_no_package_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEAMS_APP_ID", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert main(["teams", "pakket", "--uit", str(tmp_path / "p.zip")]) == 2
    assert not (tmp_path / "p.zip").exists()
