"""The rules of the cooperation's own lists (`netwerkbot import members|schools|expertise FILE.csv`).

The lists come from spreadsheets, so the reader is forgiving about what Dutch Excel produces
(`;` or `,` between cells, a UTF-8 byte order mark or Windows-1252, column names in any case,
"E-mailadres" for "e-mail") and strict about what ends up in the bot: every cell goes through
the same checks as chat input (handlers.text.clean), and a row that fails is refused with a
Dutch reason *before* anything of it is written, so the other rows still go in.

Running the same file twice changes nothing: rows are matched on natural keys (schools by
folded name, members by e-mail or else by their Slack/Matrix account, expertise by holder and
topic) and only differences are written. An empty cell never erases what is already known, so
a partial list can be imported over a complete one.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum

from bot.core.errors import UserError
from config.i18n import Catalog
from handlers.directory.tables import Column, Composite, Row, Spec, squash
from handlers.expertise.analysis import index_terms, topic_key, words
from handlers.expertise.feature import MAX_DESCRIPTION
from handlers.expertise.parser import MAX_TOPIC
from handlers.general import ROLES
from handlers.text import clean, fold
from storage.imports import EntryWrite, ImportWriter, KnownEntry, NewMember
from storage.records import Holder, MemberRecord, OrganisationRecord
from storage.repositories import Repositories

EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[a-z]{2,}$")
SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
MATRIX_ID = re.compile(r"^@[a-z0-9._=/+-]+:[a-z0-9.-]+(?::\d+)?$")
DATE_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
SEP_LINE = re.compile(r"^sep=([;,\t])$", re.IGNORECASE)
DATE_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")

KINDS = ("school", "sbo", "so", "vo", "organisatie", "swv")
KIND_ALIASES = {
    "basisschool": "school", "bo": "school", "primaironderwijs": "school",
    "speciaalbasisonderwijs": "sbo", "speciaalonderwijs": "so", "voortgezetonderwijs": "vo",
    "organisation": "organisatie", "instelling": "organisatie", "samenwerkingsverband": "swv",
}
ROLE_ALIASES = {
    "internbegeleider": "ib-er", "ib": "ib-er", "leraar": "leerkracht", "docent": "leerkracht",
    "directie": "directeur", "consultent": "consulent", "onderwijsassistente": "onderwijsassistent",
}


class Kind(StrEnum):
    SCHOOLS = "schools"
    MEMBERS = "members"
    EXPERTISE = "expertise"


class Change(StrEnum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"



SPECS: dict[Kind, Spec] = {
    Kind.SCHOOLS: Spec(
        columns=(
            Column("naam", ("school", "schoolnaam", "organisatie", "name")),
            Column("soort", ("type", "schoolsoort", "schooltype", "kind")),
            Column("werkgebied", ("regio", "gebied", "area")),
        ),
        required=("naam",), label="naam"),
    Kind.MEMBERS: Spec(
        columns=(
            Column("naam", ("volledige naam", "name")),
            Column("e-mail", ("email", "e-mailadres", "emailadres", "mail", "mailadres")),
            Column("rol", ("functie", "role")),
            Column("school", ("organisatie", "school/organisatie", "organisation")),
            Column("slack_id", ("slack", "slack-id", "slack id", "slack user id")),
            Column("matrix_id", ("matrix", "matrix-id", "matrix id")),
        ),
        required=("naam",), one_of=("e-mail", "slack_id", "matrix_id"), label="naam",
        composites=(Composite("naam", (Column("voornaam", ("roepnaam", "first name")),
                                       Column("tussenvoegsel", ("tussenvoegsels", "voorvoegsel")),
                                       Column("achternaam", ("familienaam", "last name"))),
                              needed=("voornaam", "achternaam")),)),
    Kind.EXPERTISE: Spec(
        columns=(
            Column("houder", ("naam", "lid", "wie", "holder")),
            Column("onderwerp", ("expertise", "thema", "topic")),
            Column("omschrijving", ("beschrijving", "toelichting", "description")),
            Column("bevestigd", ("bevestigd op", "datum", "laatst bevestigd", "confirmed")),
        ),
        required=("houder", "onderwerp"), label="houder"),
}



class Cells:
    """One row's cells, checked with chat-input rules; every failure is a UserError with the reason."""

    def __init__(self, row: Row, t: Catalog) -> None:
        self.row = row
        self.t = t

    def text(self, column: str, what: str, *, max_length: int, required: bool = False,
             multiline: bool = False) -> str:
        value = clean(self.row.cells.get(column, ""), self.t, what=what, max_length=max_length,
                      multiline=multiline, required=False)
        if required and not value:
            raise UserError(self.t("import.missing_value", what=what, column=column))
        return value


def parse_kind(value: str, t: Catalog) -> str:
    key = squash(value)
    kind = key if key in KINDS else KIND_ALIASES.get(key)
    if kind is None:
        raise UserError(t("import.unknown_kind", kind=value, kinds=", ".join(KINDS)))
    return kind


def parse_role(value: str, t: Catalog) -> str:
    """ROLES by their letters only, so "IB'er", "ib-er" and "IB er" are all "ib-er"."""
    key = squash(value)
    role = next((r for r in ROLES if squash(r) == key), None) or ROLE_ALIASES.get(key)
    if role is None:
        raise UserError(t("general.role_unknown", role=value, roles=", ".join(ROLES)))
    return role


def parse_date(value: str, t: Catalog, now: datetime) -> datetime:
    """dd-mm-jjjj or jjjj-mm-dd, as noon local time (so no timezone moves it to another day)."""
    match = DATE_DMY.match(value)
    parts = (match.group(3), match.group(2), match.group(1)) if match else None
    if parts is None and (match := DATE_YMD.match(value)):
        parts = (match.group(1), match.group(2), match.group(3))
    try:
        if parts is None:
            raise ValueError(value)
        day = date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise UserError(t("import.bad_date", value=value)) from None
    if day > now.date():
        raise UserError(t("import.future_date", value=value))
    return datetime.combine(day, time(12), tzinfo=now.tzinfo)


# -- the three kinds of rows -----------------------------------------------------------------------


@dataclass
class Run:
    """What one file's import shares between its rows: the transaction, the clock, what was seen."""

    repos: Repositories
    t: Catalog
    now: datetime
    seen: dict[object, int] = field(default_factory=dict)  # natural key → the accepted row that had it
    organisations: dict[str, OrganisationRecord] = field(default_factory=dict)  # by folded name
    members: list[MemberRecord] = field(default_factory=list)
    # what was there when the import began, read once: members by e-mail, by account and by folded
    # name, expertise by holder and topic; rows only meet keys of rows before them through `seen`
    by_email: dict[str, MemberRecord] = field(default_factory=dict)
    by_account: dict[tuple[str, str], MemberRecord] = field(default_factory=dict)
    by_name: dict[str, list[MemberRecord]] = field(default_factory=dict)
    entries: dict[tuple[int | None, int | None, str], KnownEntry] = field(default_factory=dict)
    writer: ImportWriter = field(init=False)

    def __post_init__(self) -> None:
        self.writer = ImportWriter(self.repos.session, self.now)

    async def load(self, kind: Kind) -> None:
        """Read what the rows are compared with, once for the whole file."""
        self.organisations = {fold(o.name): o for o in await self.repos.organisations.all()}
        if kind is Kind.SCHOOLS:
            return
        self.members = await self.repos.members.all()
        for member in self.members:
            if member.email:
                self.by_email[member.email.lower()] = member
            self.by_account.update(dict.fromkeys(member.identities, member))
            self.by_name.setdefault(fold(member.name), []).append(member)
        if kind is Kind.EXPERTISE:
            self.entries = await self.writer.known_entries()

    def unseen(self, *keys: object) -> None:
        """Refuses a row whose natural key an accepted row of this file already had."""
        for key in keys:
            if key in self.seen:
                raise UserError(self.t("import.duplicate", row=self.seen[key]))

    def accept(self, row: Row, *keys: object) -> None:
        """Called when every check passed, right before writing; only accepted rows block later ones."""
        self.seen.update(dict.fromkeys(keys, row.number))


async def import_school(run: Run, row: Row) -> Change:
    """A school or organisation by its folded name; an empty soort or werkgebied keeps what is known."""
    t, cells = run.t, Cells(row, run.t)
    name = cells.text("naam", t("import.what_name"), max_length=200, required=True)
    kind_text = cells.text("soort", t("import.what_kind"), max_length=50)
    kind = parse_kind(kind_text, t) if kind_text else ""
    werkgebied = cells.text("werkgebied", t("import.what_werkgebied"), max_length=100)
    key = fold(name)
    run.unseen(("school", key))
    run.accept(row, ("school", key))
    existing = run.organisations.get(key)
    if existing is not None:
        kind, werkgebied = kind or existing.kind, werkgebied or existing.werkgebied
        if (existing.name, existing.kind, existing.werkgebied) == (name, kind, werkgebied):
            return Change.UNCHANGED
    record, created = await run.repos.organisations.upsert(
        name=name, name_key=key, kind=kind or "school", werkgebied=werkgebied, now=run.now)
    run.organisations[key] = record
    return Change.NEW if created else Change.UPDATED


async def import_member(run: Run, row: Row) -> Change:
    """A member by e-mail, else by chat account, so someone who already chatted is completed, not doubled.

    Contradictions with what is stored (an account of someone else, another address or account
    on the same platform) are refused rather than resolved: the coordinator knows which is right.
    """
    t, cells = run.t, Cells(row, run.t)
    name = cells.text("naam", t("import.what_name"), max_length=200, required=True)
    email = cells.text("e-mail", t("import.what_email"), max_length=320).lower()
    if email and not EMAIL.match(email):
        raise UserError(t("import.bad_email", email=email))
    role_text = cells.text("rol", t("import.what_role"), max_length=50)
    role = parse_role(role_text, t) if role_text else ""
    school = cells.text("school", t("import.what_school"), max_length=200)
    organisation = run.organisations.get(fold(school)) if school else None
    if school and organisation is None:
        raise UserError(t("import.unknown_school", name=school))
    accounts: list[tuple[str, str]] = []
    slack_id = cells.text("slack_id", t("import.what_slack_id"), max_length=255).upper()
    if slack_id:
        if not SLACK_ID.match(slack_id):
            raise UserError(t("import.bad_slack_id", value=slack_id))
        accounts.append(("slack", slack_id))
    matrix_id = cells.text("matrix_id", t("import.what_matrix_id"), max_length=255).lower()
    if matrix_id:
        if not MATRIX_ID.match(matrix_id):
            raise UserError(t("import.bad_matrix_id", value=matrix_id))
        accounts.append(("matrix", matrix_id))
    if not email and not accounts:
        raise UserError(t("import.no_key"))
    keys = ([("email", email)] if email else []) + accounts
    run.unseen(*keys)

    member = run.by_email.get(email) if email else None
    owners = {account: run.by_account.get(account) for account in accounts}
    if member is None:
        member = next((owner for owner in owners.values() if owner is not None), None)
    for (platform, user_id), owner in owners.items():
        if owner is not None and member is not None and owner.id != member.id:
            raise UserError(t("import.identity_taken", platform=platform.capitalize(), value=user_id,
                              name=owner.name))
    if member is not None and email and member.email and member.email.lower() != email:
        raise UserError(t("import.email_differs", email=member.email, name=member.name))
    for platform, user_id in accounts:  # one account per platform: a different one is a question, not an update
        current = next((uid for p, uid in member.identities if p == platform), None) if member else None
        if member is not None and current is not None and current != user_id:
            raise UserError(t("import.identity_differs", name=member.name, platform=platform.capitalize(),
                              current=current))

    run.accept(row, *keys)
    if member is None:
        await run.writer.new_member(NewMember(name, email or None, role, organisation.id if organisation else None,
                                              tuple(accounts)))
        return Change.NEW
    values: dict[str, object] = {}
    if member.name != name:
        values["name"] = name
    if email and member.email != email:
        values["email"] = email
    if role and member.role != role:
        values["role"] = role
    if organisation is not None and (member.organisation is None or member.organisation.id != organisation.id):
        values["organisation_id"] = organisation.id
    if values:
        await run.writer.update_member(member.id, values)
    linked = [account for account, owner in owners.items() if owner is None]
    for platform, user_id in linked:
        await run.writer.link(member.id, platform, user_id)
    return Change.UPDATED if values or linked else Change.UNCHANGED


def find_holder(run: Run, text: str) -> Holder:
    """A member by e-mail address or exact name, or an organisation by exact name (never a guess)."""
    t = run.t
    if "@" in text:
        by_email = run.by_email.get(text.lower())
        if by_email is None:
            raise UserError(t("import.unknown_holder", name=text))
        return by_email
    key = fold(text)
    found: list[Holder] = list(run.by_name.get(key, ()))
    if (organisation := run.organisations.get(key)) is not None:
        found.append(organisation)
    if not found:
        raise UserError(t("import.unknown_holder", name=text))
    if len(found) > 1:
        raise UserError(t("import.ambiguous_holder", name=text, options=", ".join(
            f"{h.name} ({h.email or '-'})" if isinstance(h, MemberRecord) else h.name for h in found)))
    return found[0]


async def import_expertise(run: Run, row: Row) -> Change:
    """A topic per holder; without a bevestigd date an existing entry keeps its own, so a re-import
    does not make old expertise look freshly confirmed."""
    t, cells = run.t, Cells(row, run.t)
    holder_text = cells.text("houder", t("import.what_holder"), max_length=320, required=True)
    topic = cells.text("onderwerp", t("expertise.what_topic"), max_length=MAX_TOPIC, required=True).lstrip("#")
    if not words(topic):
        raise UserError(t("expertise.topic_meaningless", topic=topic))
    description = cells.text("omschrijving", t("expertise.what_description"), max_length=MAX_DESCRIPTION,
                             multiline=True)
    confirmed_text = cells.text("bevestigd", t("import.what_confirmed"), max_length=30)
    confirmed = parse_date(confirmed_text, t, run.now) if confirmed_text else None
    holder = find_holder(run, holder_text)
    key = topic_key(topic)
    natural_key = ("expertise", type(holder).__name__, holder.id, key)
    run.unseen(natural_key)
    run.accept(row, natural_key)

    member_id, organisation_id = (holder.id, None) if isinstance(holder, MemberRecord) else (None, holder.id)
    existing = run.entries.get((member_id, organisation_id, key))
    if existing is not None:
        same_date = confirmed is None or existing.confirmed_at.astimezone(run.now.tzinfo).date() == confirmed.date()
        if existing.topic == topic and description in ("", existing.description) and same_date:
            return Change.UNCHANGED
    await run.writer.entry(EntryWrite(
        existing=existing.id if existing else None, member_id=member_id, organisation_id=organisation_id,
        topic=topic, topic_key=key, description=description, terms=index_terms(topic, description),
        confirmed_at=confirmed or (existing.confirmed_at if existing else run.now)))
    return Change.UPDATED if existing else Change.NEW


ROW_IMPORTERS: dict[Kind, Callable[[Run, Row], Awaitable[Change]]] = {
    Kind.SCHOOLS: import_school, Kind.MEMBERS: import_member, Kind.EXPERTISE: import_expertise,
}

