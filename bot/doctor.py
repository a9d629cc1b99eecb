"""`netwerkbot doctor`: a check-up that says, per thing, OK or what is wrong and how to fix it.

Meant for the IT person who installed the bot and for cron or a deploy script: the exit code is
1 when any check found something wrong (warnings alone keep it 0). It reads and asks, it changes
nothing: no schema upgrade, no message sent (a Matrix password login it needed is logged out again).
"""

from __future__ import annotations

import asyncio
import difflib
import json
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import AliasChoices, ValidationError
from sqlalchemy import Connection, func, select

from bot.backup import sqlite_file
from bot.core.clock import Clock, SystemClock
from config.i18n import Catalog
from config.settings import Settings
from handlers.meetings.holiday_watch import holidays_until
from handlers.meetings.rhythm import ConfigError, load_holidays, load_series
from storage.db import Database, alembic_config
from storage.models import Occurrence, OutboxMessage

ROLES = ("consultants", "inner_circle", "outer_circle", "proposals")
MANIFEST = Path(__file__).resolve().parent.parent / "slack" / "manifest.json"
RECENT = timedelta(days=7)  # failed messages and missed reminders older than this are history, not a problem
STUCK = timedelta(hours=1)  # an unsent message this old means delivery is not happening
HOLIDAYS_AHEAD = timedelta(days=365)
HOLIDAYS_WARN = timedelta(days=90)
TIMEOUT = 10.0  # seconds per remote check
IGNORED = frozenset({"NETWERKBOT_TEST_POSTGRES_URL"})  # read by the test suite only


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    WRONG = "wrong"


@dataclass(frozen=True)
class Finding:
    topic: str
    status: Status
    text: str
    fix: str = ""


Report = list[Finding]


def known_names() -> set[str]:
    """Every environment name a setting is read from."""
    names: set[str] = set()
    for name, info in Settings.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {str(choice) for choice in alias.choices}
        elif isinstance(alias, str):
            names.add(alias)
        else:
            names.add(f"NETWERKBOT_{name.upper()}")
    return names


def env_file_names(path: Path) -> dict[str, str]:
    """The names set in a .env file (without interpreting values; comments and blank lines skipped)."""
    found: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return found
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name = line.split("=", 1)[0].removeprefix("export ").strip()
        found[name] = str(path)
    return found


def check_names(t: Catalog, environ: Mapping[str, str], env_file: Path) -> Report:
    """Unknown or misspelt NETWERKBOT_* names: a setting that silently does nothing."""
    known = known_names()
    sources = {name: t("ops.from_environment") for name in environ} | env_file_names(env_file)
    report: Report = []
    for name, where in sorted(sources.items()):
        upper = name.upper()
        if not upper.startswith("NETWERKBOT_") or upper in known or upper in IGNORED:
            continue
        close = difflib.get_close_matches(upper, sorted(known), n=1, cutoff=0.75)
        fix = t("ops.names_did_you_mean", name=close[0]) if close else t("ops.names_see_example")
        report.append(Finding(t("ops.topic_settings"), Status.WRONG, t("ops.names_unknown", name=name, where=where),
                              fix))
    return report


def load_settings(t: Catalog) -> tuple[Settings | None, Report]:
    try:
        return Settings(), []
    except ValidationError as error:
        report = [Finding(t("ops.topic_settings"), Status.WRONG,
                          t("ops.settings_invalid", name=".".join(str(p) for p in e["loc"]) or "?", error=e["msg"]),
                          t("ops.settings_fix")) for e in error.errors()]
        return None, report


# -- database ---------------------------------------------------------------------------------------


def _revisions(connection: Connection) -> tuple[set[str], set[str]]:
    current = set(MigrationContext.configure(connection).get_current_heads())
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    return current, heads


async def check_database(db: Database, t: Catalog, now: datetime) -> tuple[bool, Report]:
    """Reachable, schema current; then the outbox and the reminders, which live in it."""
    topic = t("ops.topic_database")
    try:
        async with asyncio.timeout(TIMEOUT), db.engine.connect() as connection:
            current, heads = await connection.run_sync(_revisions)
    except Exception as error:
        return False, [Finding(topic, Status.WRONG, t("ops.db_unreachable", error=type(error).__name__),
                               t("ops.db_unreachable_fix"))]
    if not current:
        return False, [Finding(topic, Status.WRONG, t("ops.db_empty"), t("ops.db_upgrade_fix"))]
    if current != heads:
        return False, [Finding(topic, Status.WRONG, t("ops.db_behind", current=", ".join(sorted(current)),
                                                       head=", ".join(sorted(heads))), t("ops.db_upgrade_fix"))]
    report = [Finding(topic, Status.OK, t("ops.db_ok", dialect=db.dialect, head=", ".join(sorted(heads))))]
    return True, report + await check_delivery(db, t, now)


async def check_delivery(db: Database, t: Catalog, now: datetime) -> Report:
    outbox, reminders = t("ops.topic_outbox"), t("ops.topic_reminders")
    async with db.engine.connect() as c:
        failed = (await c.execute(select(func.count()).where(OutboxMessage.failed_at >= now - RECENT))).scalar_one()
        oldest = (await c.execute(select(func.min(OutboxMessage.created_at)).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None)))).scalar_one()
        missed = (await c.execute(select(func.count()).where(
            Occurrence.state == "missed", Occurrence.due_at >= now - RECENT))).scalar_one()
    report: Report = []
    if failed:
        report.append(Finding(outbox, Status.WRONG, t("ops.outbox_failed", count=failed), t("ops.outbox_failed_fix")))
    if oldest is not None and _aware(oldest) < now - STUCK:
        minutes = int((now - _aware(oldest)).total_seconds() // 60)
        report.append(Finding(outbox, Status.WRONG, t("ops.outbox_stuck", minutes=minutes), t("ops.outbox_stuck_fix")))
    if not report:
        report.append(Finding(outbox, Status.OK, t("ops.outbox_ok")))
    if missed:
        report.append(Finding(reminders, Status.WRONG, t("ops.reminders_missed", count=missed),
                              t("ops.reminders_missed_fix")))
    else:
        report.append(Finding(reminders, Status.OK, t("ops.reminders_ok")))
    return report


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- meetings and holidays ------------------------------------------------------------------------


def check_calendar(settings: Settings, t: Catalog, today: date) -> Report:
    topic, holidays = t("ops.topic_meetings"), t("ops.topic_holidays")
    report: Report = []
    try:
        series = load_series(settings.meetings_file, settings.zone)
        report.append(Finding(topic, Status.OK, t("ops.meetings_ok", count=len(series), file=settings.meetings_file)))
    except ConfigError as error:
        report.append(Finding(topic, Status.WRONG, str(error), t("ops.meetings_fix", file=settings.meetings_file)))
    try:
        calendar = load_holidays(settings.school_holidays_file)
    except ConfigError as error:
        return [*report, Finding(holidays, Status.WRONG, str(error), t("ops.holidays_fix"))]
    until = holidays_until(calendar)
    if until is None or until < today + HOLIDAYS_AHEAD:
        shown = until.isoformat() if until else "—"
        report.append(Finding(holidays, Status.WRONG, t("ops.holidays_short", until=shown), t("ops.holidays_fix")))
    else:
        report.append(Finding(holidays, Status.OK, t("ops.holidays_ok", until=until.isoformat())))
    return report


# -- Slack ------------------------------------------------------------------------------------------


def manifest_scopes(path: Path = MANIFEST) -> set[str] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return set(data["oauth_config"]["scopes"]["bot"])


async def check_slack(settings: Settings, t: Catalog) -> Report:
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    topic = "Slack"
    if settings.slack_bot_token is None:
        return [Finding(topic, Status.OK, t("ops.slack_not_used"))]
    report: Report = []
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        report.append(Finding(topic, Status.WRONG, t("ops.slack_no_secret"), t("ops.slack_no_secret_fix")))
    client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url,
                            timeout=int(TIMEOUT))
    try:
        answer = await client.auth_test()
    except SlackApiError as error:
        code = str(error.response.get("error", "?"))
        return [*report, Finding(topic, Status.WRONG, t("ops.slack_auth_failed", error=code),
                                 t("ops.slack_auth_fix"))]
    except Exception as error:
        return [*report, Finding(topic, Status.WRONG, t("ops.slack_unreachable", url=settings.slack_api_url,
                                                        error=type(error).__name__), t("ops.slack_unreachable_fix"))]
    report.append(Finding(topic, Status.OK, t("ops.slack_auth_ok", user=answer.get("user", "?"),
                                              team=answer.get("team", "?"))))
    granted = {s.strip() for s in str(answer.headers.get("x-oauth-scopes", "")).split(",") if s.strip()}
    wanted = manifest_scopes()
    if wanted is None:
        report.append(Finding(topic, Status.WARN, t("ops.slack_no_manifest")))
    elif missing := sorted(wanted - granted):
        report.append(Finding(topic, Status.WRONG, t("ops.slack_scopes_missing", scopes=", ".join(missing)),
                              t("ops.slack_scopes_fix")))
    else:
        report.append(Finding(topic, Status.OK, t("ops.slack_scopes_ok")))
    for role in ROLES:
        report.append(await _slack_channel(client, settings, t, role, SlackApiError))
    return report


async def _slack_channel(client: Any, settings: Settings, t: Catalog, role: str, api_error: type[Exception]) -> Finding:
    """conversations.history answers `not_in_channel` when the bot is not a member: what the bot needs to post
    and read there, and it needs only the history scopes the bot has anyway (conversations.info would need
    channels:read and groups:read on top)."""
    topic, name = "Slack", t(f"ops.role_{role}")
    channel = settings.channel(role)
    variable = f"NETWERKBOT_CHANNEL_{role.upper()}"
    if not channel:
        return Finding(topic, Status.WARN, t("ops.channel_not_set", role=name, variable=variable))
    try:
        await client.conversations_history(channel=channel, limit=1)
    except api_error as error:
        code = str(error.response.get("error", "?"))  # type: ignore[attr-defined]
        if code == "not_in_channel":
            return Finding(topic, Status.WRONG, t("ops.channel_not_member", role=name, channel=channel),
                           t("ops.channel_invite_fix", channel=channel))
        return Finding(topic, Status.WRONG, t("ops.channel_error", role=name, channel=channel, error=code),
                       t("ops.channel_error_fix", variable=variable))
    return Finding(topic, Status.OK, t("ops.channel_ok", role=name, channel=channel))


# -- Matrix -----------------------------------------------------------------------------------------


async def check_matrix(settings: Settings, db: Database | None, t: Catalog) -> Report:
    from nio import AsyncClient, AsyncClientConfig, JoinedRoomsResponse, LoginResponse, WhoamiResponse

    topic = "Matrix"
    if not settings.matrix_homeserver:
        return [Finding(topic, Status.OK, t("ops.matrix_not_used"))]
    user = settings.matrix_user_id
    client = AsyncClient(settings.matrix_homeserver, user, config=AsyncClientConfig(encryption_enabled=False,
                                                                                   store_sync_tokens=False))
    logged_in_here = False
    try:
        token = await _saved_matrix_token(db, user)
        if token is None and settings.matrix_access_token is not None:
            token = settings.matrix_access_token.get_secret_value()
        if token is not None:
            client.restore_login(user, "doctor", token)
            whoami = await asyncio.wait_for(client.whoami(), TIMEOUT)
            if not isinstance(whoami, WhoamiResponse) or whoami.user_id != user:
                token = None
                client.access_token = ""
        if token is None:
            if settings.matrix_password is None:
                return [Finding(topic, Status.WRONG, t("ops.matrix_no_login"), t("ops.matrix_login_fix"))]
            login = await asyncio.wait_for(client.login(settings.matrix_password.get_secret_value(),
                                                        device_name="netwerkbot doctor"), TIMEOUT)
            if not isinstance(login, LoginResponse):
                return [Finding(topic, Status.WRONG, t("ops.matrix_login_failed", error=str(login)),
                                t("ops.matrix_login_fix"))]
            logged_in_here = True
        report = [Finding(topic, Status.OK, t("ops.matrix_login_ok", user=user, server=settings.matrix_homeserver))]
        rooms = await asyncio.wait_for(client.joined_rooms(), TIMEOUT)
        joined = set(rooms.rooms) if isinstance(rooms, JoinedRoomsResponse) else set()
        for role in ROLES:
            report.append(await _matrix_room(client, settings, t, role, joined))
        return report
    except (TimeoutError, OSError) as error:
        return [Finding(topic, Status.WRONG, t("ops.matrix_unreachable", url=settings.matrix_homeserver,
                                               error=type(error).__name__), t("ops.matrix_unreachable_fix"))]
    finally:
        if logged_in_here:
            await client.logout()  # the doctor's device is gone again
        await client.close()


async def _saved_matrix_token(db: Database | None, user: str) -> str | None:
    """The token the running bot keeps in the database, so the doctor makes no new device."""
    if db is None:
        return None
    try:
        from storage.matrix import MatrixRepository  # the adapter's own state, not in Repositories

        async with db.transaction() as repos:
            saved = await MatrixRepository(repos.session).login(user)
    except Exception:
        return None
    return saved.access_token if saved is not None else None


async def _matrix_room(client: Any, settings: Settings, t: Catalog, role: str, joined: set[str]) -> Finding:
    from nio import RoomGetStateEventResponse

    topic, name = "Matrix", t(f"ops.role_{role}")
    room = settings.channel(role, "matrix")
    variable = f"NETWERKBOT_MATRIX_ROOM_{role.upper()}"
    if not room:
        return Finding(topic, Status.WARN, t("ops.room_not_set", role=name, variable=variable))
    if room not in joined:
        return Finding(topic, Status.WRONG, t("ops.room_not_joined", role=name, room=room),
                       t("ops.room_invite_fix", room=room, variable=variable))
    encryption = await asyncio.wait_for(client.room_get_state_event(room, "m.room.encryption"), TIMEOUT)
    if isinstance(encryption, RoomGetStateEventResponse):  # fine: the bot encrypts (bot/adapters/matrix/crypto.py)
        return Finding(topic, Status.OK, t("e2e.room_ok_encrypted", role=name, room=room))
    return Finding(topic, Status.OK, t("ops.room_ok", role=name, room=room))


# -- the whole check-up ------------------------------------------------------------------------------


async def examine(settings: Settings, t: Catalog, clock: Clock, *, environ: Mapping[str, str],
                  env_file: Path) -> Report:
    report = check_names(t, environ, env_file)
    if not report:
        report.append(Finding(t("ops.topic_settings"), Status.OK, t("ops.settings_ok")))
    db = Database(settings.database_url)
    file = sqlite_file(settings)
    try:
        if file is not None and not file.exists():  # connecting would create it: the doctor changes nothing
            reachable, found = False, [Finding(t("ops.topic_database"), Status.WRONG, t("ops.db_empty"),
                                               t("ops.db_upgrade_fix"))]
        else:
            reachable, found = await check_database(db, t, clock.now())
        report += found
        report += check_calendar(settings, t, clock.now().date())
        remote: list[Callable[[], Awaitable[Report]]] = [
            lambda: check_slack(settings, t), lambda: check_matrix(settings, db if reachable else None, t)]
        for check in remote:
            report += await check()
    finally:
        await db.dispose()
    return report


MARK = {Status.OK: "✅", Status.WARN: "⚠️ ", Status.WRONG: "❌"}


def render(report: Report, t: Catalog) -> str:
    lines = []
    for finding in report:
        lines.append(f"{MARK[finding.status]} {finding.topic}: {finding.text}")
        if finding.fix:
            lines.append(f"   → {finding.fix}")
    wrong = sum(1 for f in report if f.status is Status.WRONG)
    lines.append(t.plural("ops.summary_wrong", wrong) if wrong else t("ops.summary_ok"))
    return "\n".join(lines)


def run_doctor(out: TextIO, *, environ: Mapping[str, str] | None = None, env_file: Path = Path(".env"),
               clock: Clock | None = None, settings: Settings | None = None) -> int:
    """The CLI's entry: prints the report, returns 1 when something is wrong."""
    environ = os.environ if environ is None else environ
    if settings is None:
        t = Catalog("nl")  # settings that cannot be read have no language either
        loaded, problems = load_settings(t)
        if loaded is None:
            print(render(check_names(t, environ, env_file) + problems, t), file=out)
            return 1
        settings = loaded
    t = Catalog(settings.language)
    report = asyncio.run(examine(settings, t, clock or SystemClock(settings.zone), environ=environ, env_file=env_file))
    print(render(report, t), file=out)
    return 1 if any(f.status is Status.WRONG for f in report) else 0
