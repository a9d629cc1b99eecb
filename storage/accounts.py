"""Members of platform accounts, and coordinator rights, read beside the session (issue 19, item 1).

A person's first input in a process, and their first after a change to them, reads their member: through
the session that is a transaction of its own on SQLite (BEGIN, two statements and COMMIT, each a hop to
aiosqlite's thread: some 2 ms) and three round trips more on PostgreSQL. Read with `storage.changes.peek`
it is one plain statement on committed rows (SQLite: on the event loop's thread; PostgreSQL: in
autocommit, one round trip), its rights read with it, and only while the session has read nothing itself:
what it reads afterwards is no older.
The same records as `MemberRepository._load`; None when a peek is not possible now (the caller then
reads through the session).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.changes import BEGUN, peek
from storage.models import as_utc
from storage.records import MemberRecord, OrganisationRecord

MOST = 500  # accounts read at once this way (a group of presses is far smaller); more go through the session

# one row per account and account of its member (one round trip, one snapshot), with the first account's rights
COLUMNS = ("SELECT i.platform, i.user_id, m.id, m.name, m.title, m.email, m.role, m.profile_fetched_at,"
           " o.id, o.name, o.kind, o.werkgebied, a.platform, a.user_id,"
           " EXISTS (SELECT 1 FROM coordinators c"
           " WHERE c.platform = i.platform AND c.user_id = i.user_id AND c.removed_at IS NULL)")
JOINS = (" JOIN members m ON m.id = i.member_id JOIN identities a ON a.member_id = m.id"
         " LEFT JOIN organisations o ON o.id = m.organisation_id")
MEMBERS = (COLUMNS + " FROM identities i" + JOINS + " WHERE i.platform = ? AND i.user_id IN ({0})"
           # and the coordinators among the accounts without a member (an account in neither has no rights)
           " UNION ALL SELECT c.platform, c.user_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
           " NULL, NULL, TRUE FROM coordinators c WHERE c.platform = ? AND c.user_id IN ({0}) AND c.removed_at IS NULL"
           " AND NOT EXISTS (SELECT 1 FROM identities x WHERE x.platform = c.platform AND x.user_id = c.user_id)")
RECENT = (COLUMNS + " FROM (SELECT id FROM members ORDER BY last_seen_at DESC NULLS LAST, id DESC LIMIT :most) r"
          " JOIN identities i ON i.member_id = r.id" + JOINS)
COORDINATOR = "SELECT 1 FROM coordinators WHERE platform = ? AND user_id = ? AND removed_at IS NULL"
RIGHTS = "netwerkbot.rights"  # session.info: the rights of the accounts whose members were read beside it

Account = tuple[str, str]  # (platform, user id)
Query = tuple[str, tuple[Any, ...]]  # a statement with placeholders `?`, and its parameters


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _records(rows: Iterable[Sequence[Any]]) -> dict[Account, tuple[MemberRecord, bool]]:
    """Rows of `COLUMNS`: each account's member and whether the account is a coordinator."""
    rows = list(rows)
    accounts: dict[int, list[Account]] = {}
    for row in rows:
        accounts.setdefault(int(row[2]), []).append((str(row[12]), str(row[13])))
    return {
        (str(platform), str(user_id)): (MemberRecord(
            id=int(member_id), name=name, title=title, email=email, role=role,
            organisation=OrganisationRecord(id=int(org_id), name=org_name, kind=kind, werkgebied=werkgebied)
            if org_id is not None else None,
            identities=tuple(sorted(accounts[int(member_id)])),
            profile_fetched_at=as_utc(fetched),
        ), bool(rights))
        for platform, user_id, member_id, name, title, email, role, fetched, org_id, org_name, kind, werkgebied,
        _, _, rights in rows
    }


def member_query(platform: str, user_id: str) -> Query:
    """The statement and parameters with which `members_of_accounts` reads one account: to be read ahead."""
    return MEMBERS.format(_marks(1)), (platform, user_id, platform, user_id)


async def members_of_accounts(session: AsyncSession, platform: str,
                              user_ids: Collection[str]) -> dict[str, MemberRecord] | None:
    """The members of these accounts by user id (accounts without one left out), or None. Read with them:
    whether each of those accounts is a coordinator, for `coordinator` in the same transaction."""
    wanted = sorted(set(user_ids))
    if not wanted or len(wanted) > MOST:
        return None if wanted else {}
    rows = await peek(session, MEMBERS.format(_marks(len(wanted))), platform, *wanted, platform, *wanted)
    if rows is None:
        return None
    found = _records(row for row in rows if row[2] is not None)
    session.info.setdefault(RIGHTS, {}).update(
        {(platform, user_id): False for user_id in wanted}
        | {(platform, str(row[1])): bool(row[14]) for row in rows})
    return {user_id: member for (_, user_id), (member, _) in found.items()}


async def recent_members(session: AsyncSession, most: int) -> dict[Account, tuple[MemberRecord, bool]]:
    """The members seen most recently (up to `most`, those never seen last) by each of their accounts, with
    whether that account is a coordinator: one statement through the session."""
    return _records((await session.execute(text(RECENT), {"most": most})).all())


async def coordinator(session: AsyncSession, platform: str, user_id: str) -> bool | None:
    """Whether the account has coordinator rights now, or None."""
    if not session.info.get(BEGUN) and (known := session.info.get(RIGHTS, {}).get((platform, user_id))) is not None:
        return bool(known)  # read with its member, as `peek` would read it now
    rows = await peek(session, COORDINATOR, platform, user_id)
    return None if rows is None else bool(rows)
