"""Installed from the built wheel, outside the checkout, `netwerkbot` works: its catalogue, meeting series,
holidays, synonyms and migrations come with it as package data. And deploy/netwerkbot.service is a unit
systemd accepts.

The wheel is built without build isolation and installed with `--no-deps` into a fresh venv that
sees this environment's packages through a .pth line (no network, a few seconds); a .pth line adds a
directory but runs none of its .pth files, so the editable install of the checkout stays out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "netwerkbot.service"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NETWERKBOT_", "SLACK_", "MATRIX_", "PYTHON")) and k != "DATABASE_URL"}
    return env | extra


def sh(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], cwd=cwd, env=env or clean_env(), capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bin directory of a fresh venv with the wheel installed."""
    base = tmp_path_factory.mktemp("install")
    built = sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
               "--wheel-dir", base / "dist", ROOT, cwd=base)
    assert built.returncode == 0, built.stderr
    wheel = next((base / "dist").glob("netwerkbot-*.whl"))
    venv = base / "venv"
    made = sh(sys.executable, "-m", "venv", "--without-pip", venv, cwd=base)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = sh(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=base).stdout.strip()
    Path(purelib, "netwerkbot-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    done = sh(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "--quiet",
              wheel, cwd=base)
    assert done.returncode == 0, done.stderr
    yield venv / "bin"
    shutil.rmtree(ROOT / "build", ignore_errors=True)  # what setuptools leaves in the checkout


def test_the_installed_command_runs_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    where = sh(installed / "python", "-c", "import bot, config.settings as s; print(bot.__file__); print(s.CONFIG_DIR)",
               cwd=tmp_path)
    assert str(installed.parent) in where.stdout and str(ROOT) not in where.stdout, where.stdout + where.stderr

    helped = sh(installed / "netwerkbot", "--help", cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    for command in ("console", "slack", "matrix", "doctor", "backup", "restore", "vakanties", "import"):
        assert command in helped.stdout

    exported = sh(installed / "netwerkbot", "agenda", "export", "consulenten", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith("BEGIN:VCALENDAR")  # the shipped series and holidays
    assert "SUMMARY:" in exported.stdout
    assert (tmp_path / "netwerkbot.db").is_file()  # the shipped migrations made the schema

    backup = sh(installed / "netwerkbot", "backup", tmp_path / "kopie.db", cwd=tmp_path)
    assert backup.returncode == 0, backup.stdout + backup.stderr
    assert "Reservekopie gemaakt" in backup.stdout

    checked = sh(installed / "netwerkbot", "doctor", cwd=tmp_path)
    assert "✅ Database: bereikbaar (sqlite)" in checked.stdout, checked.stdout + checked.stderr
    assert "✅ Overlegreeksen" in checked.stdout
    assert "Traceback" not in checked.stderr


def test_the_systemd_unit(installed: Path, tmp_path: Path) -> None:
    unit = UNIT.read_text(encoding="utf-8")
    assert "EnvironmentFile=/etc/netwerkbot/netwerkbot.env" in unit
    assert "ExecStart=/opt/netwerkbot/bin/netwerkbot slack" in unit
    assert "ExecStartPre=/opt/netwerkbot/bin/netwerkbot db upgrade" in unit
    analyze = shutil.which("systemd-analyze")
    if analyze is None:  # no systemd here: the checks above are what can be checked
        return
    env_file = tmp_path / "netwerkbot.env"
    env_file.write_text("DATABASE_URL=\n", encoding="utf-8")
    local = tmp_path / "netwerkbot.service"
    local.write_text(unit.replace("/opt/netwerkbot/bin/netwerkbot", str(installed / "netwerkbot"))
                     .replace("/etc/netwerkbot/netwerkbot.env", str(env_file)), encoding="utf-8")

    verified = sh(analyze, "verify", local, cwd=tmp_path)

    assert verified.returncode == 0, verified.stderr
    assert verified.stderr.strip() == "", verified.stderr  # warnings (an unknown key or value) count too
