"""`netwerkbot`: the command line (see DESIGN.md, "Interface contract")."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Sequence

from bot.app import Bot, build
from bot.core.inputs import Actor
from bot.logs import configure as configure_logging
from config.i18n import Catalog
from config.settings import Settings
from handlers.meetings.rhythm import ConfigError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="netwerkbot", description="De bot van de netwerkgroepen.")
    sub = p.add_subparsers(dest="command", required=True)
    console = sub.add_parser("console", help="chat in de terminal (lokale SQLite)")
    console.add_argument("--demo", action="store_true", help="laad een demonetwerk: scholen, leden, expertise")
    console.add_argument("--als", metavar="NAAM", help="kies het demolid meteen (bijv. marieke)")
    slack = sub.add_parser("slack", help="verbind met Slack (Socket Mode of HTTP)")
    slack.add_argument("--port", type=int, default=3000, help="HTTP-poort (standaard 3000)")
    teams = sub.add_parser("teams", help="verbind met Microsoft Teams (TEAMS_APP_ID, TEAMS_APP_PASSWORD)")
    teams.add_argument("action", nargs="?", choices=["pakket"], help="pakket: schrijf het Teams-app-pakket (zip)")
    teams.add_argument("--port", type=int, default=3978, help="HTTP-poort (standaard 3978)")
    teams.add_argument("--uit", metavar="BESTAND", default="netwerkbot-teams.zip", help="pakket: het zipbestand")
    matrix = sub.add_parser("matrix", help="verbind met een Matrix-homeserver (MATRIX_HOMESERVER, MATRIX_USER_ID)")
    matrix.add_argument("--port", type=int, default=None, help="HTTP-poort voor /metrics en /healthz (standaard geen)")
    db = sub.add_parser("db", help="database")
    db.add_argument("action", choices=["upgrade"])
    agenda = sub.add_parser("agenda", help="de overlegreeksen als iCalendar")
    agenda.add_argument("action", choices=["export"])
    agenda.add_argument("series", metavar="REEKS", help="bijv. consulenten (zie config/meetings.toml)")
    imp = sub.add_parser("import", help="lees leden, scholen of expertise uit een CSV-bestand")
    imp.add_argument("kind", choices=["members", "schools", "expertise", "duo"])
    imp.add_argument("file")
    imp.add_argument("--swv", metavar="CODE", help="duo: het administratienummer van het samenwerkingsverband")
    sub.add_parser("doctor", help="controleer instellingen, database, Slack, Matrix en agenda (exit 1 bij fouten)")
    backup = sub.add_parser("backup", help="maak een reservekopie van de SQLite-database (ook terwijl de bot draait)")
    backup.add_argument("file", metavar="BESTAND")
    restore = sub.add_parser("restore", help="zet een reservekopie terug (stop de bot eerst)")
    restore.add_argument("file", metavar="BESTAND")
    holidays = sub.add_parser("vakanties", help="schoolvakanties uit de open data van de Rijksoverheid")
    holidays.add_argument("action", choices=["bijwerken"])
    holidays.add_argument("--proef", action="store_true", help="toon alleen wat er verandert, schrijf niets")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "doctor":  # it reads the settings itself, to report what is wrong with them
        from bot.doctor import run_doctor

        return run_doctor(sys.stdout)
    settings = Settings()
    try:
        return run(args, settings)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2


def run(args: argparse.Namespace, settings: Settings) -> int:
    configure_logging(settings.log_level, settings.log_format)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.command == "console":
        logging.getLogger().setLevel(logging.WARNING)
        try:
            return asyncio.run(console(settings, demo=args.demo, als=args.als))
        except KeyboardInterrupt:  # Ctrl-C: the chat was cancelled and the database closed
            print("\n" + Catalog(settings.language)("console.bye"))
            return 130
    if args.command == "slack":
        from bot.adapters.slack import serve

        return asyncio.run(serve(build(settings), port=args.port))
    if args.command == "teams":
        return run_teams(args, settings)
    if args.command == "matrix":
        from bot.adapters.matrix import serve as serve_matrix
        from storage.matrix import MatrixStore

        bot = build(settings)
        return asyncio.run(serve_matrix(bot, MatrixStore(bot.db, bot.clock.now), port=args.port))
    if args.command == "db":
        return asyncio.run(upgrade(build(settings)))
    if args.command == "agenda":
        return asyncio.run(export_calendar(build(settings), args.series))
    if args.command in ("backup", "restore", "vakanties") or (args.command == "import" and args.kind == "duo"):
        from bot.operations import run_operation

        return run_operation(args, settings)
    if args.command == "import":
        from bot.importer import run_import

        return asyncio.run(run_import(build(settings), args.kind, args.file))
    return 2


def run_teams(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "pakket":
        from bot.adapters.teams.package import write_package

        return write_package(settings, str(args.uit))
    from bot.adapters.teams import serve as serve_teams
    from storage.teams import TeamsStore

    bot = build(settings)
    return asyncio.run(serve_teams(bot, TeamsStore(bot.db, bot.clock.now), port=args.port))


async def upgrade(bot: Bot) -> int:
    await bot.start()
    await bot.stop()
    print(bot.catalog("console.db_upgraded"))
    return 0


async def export_calendar(bot: Bot, series: str) -> int:
    """`netwerkbot agenda export SERIES > overleg.ics`: the feed the HTTP server serves, on stdout."""
    await bot.start()
    try:
        async with bot.db.transaction() as repos:
            feed = await bot.meetings.ical_feed(repos, series, bot.clock.now())
    finally:
        await bot.stop()
    if feed is None:
        names = ", ".join(s.key for s in bot.meetings.file_series)
        print(bot.catalog("console.no_series", name=series, names=names), file=sys.stderr)
        return 2
    sys.stdout.buffer.write(feed)
    return 0


async def console(settings: Settings, *, demo: bool, als: str | None) -> int:
    from bot import demo as demo_data
    from bot.adapters.console import ConsoleChat, stdout_write

    if demo:
        settings = settings.model_copy(update={"coordinators": settings.coordinators | demo_data.coordinator_ids()})
    if not settings.question_channels:  # the terminal is a channel of its own: questions get their experts
        settings = settings.model_copy(update={"question_channels": frozenset({"console"})})
    bot = build(settings)
    await bot.start()
    try:
        if demo:
            await demo_data.load(bot.db, bot.clock)
            actor = await choose_demo_member(als, bot.catalog)
            if actor is None:
                return 1
        else:
            user = getpass.getuser()
            actor = Actor("console", user, user)
        stdout_write(bot.catalog("console.hello", name=actor.name))
        chat = ConsoleChat(bot, actor, write=stdout_write)
        await bot.keep_time(chat)
        await chat.run()
        return 0
    finally:
        await bot.stop()


async def choose_demo_member(als: str | None, t: Catalog) -> Actor | None:
    """The demo member to be: named by `--als`, else chosen by number.

    The number is read like every chat line (bot.adapters.console.read_line), so Ctrl-C at
    this prompt ends the program at once instead of being swallowed by a blocking `input()`.
    """
    from bot.adapters.console import read_line
    from bot.demo import MEMBERS

    if als:
        found = [m for m in MEMBERS if m.slug == als.lower()]
        if not found:
            print(t("console.no_demo_member", name=als, names=", ".join(m.slug for m in MEMBERS)), file=sys.stderr)
            return None
        return Actor("console", found[0].slug, found[0].name)
    print(t("console.who_are_you"))
    for i, m in enumerate(MEMBERS, 1):
        extra = ", " + t("general.coordinator").lower() if m.coordinator else ""
        print(f"  [{i}] {m.name} — {m.role}, {m.organisation}{extra}")
    while True:
        line = await read_line(input, t("console.pick") + " ")
        if line is None:
            return None
        answer = line.strip()
        if answer.isdigit() and 1 <= int(answer) <= len(MEMBERS):
            chosen = MEMBERS[int(answer) - 1]
            return Actor("console", chosen.slug, chosen.name)
        print(t("console.choose_number", max=len(MEMBERS)))


if __name__ == "__main__":
    sys.exit(main())
