"""The members the dispatcher keeps in memory, by platform account, with what a change names found directly.

A change to a member or an organisation (storage.changes) drops only the accounts of the members it names. Found
by looking through every kept member, that cost the input after each change 0.29 ms with 1,000 members kept, and
grew with every member kept (issue 19); by member and organisation id it costs the same with 20,000.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from storage.changes import MEMBER, ORGANISATION
from storage.records import MemberRecord

Account = tuple[str, str]  # (platform, user id)


class KnownMembers:
    def __init__(self) -> None:
        self._by_account: dict[Account, MemberRecord] = {}
        self._accounts: dict[tuple[str, int], set[Account]] = {}  # (MEMBER or ORGANISATION, id) -> accounts

    def __len__(self) -> int:
        return len(self._by_account)

    def __contains__(self, account: object) -> bool:
        return account in self._by_account

    def get(self, account: Account) -> MemberRecord | None:
        return self._by_account.get(account)

    def put(self, account: Account, member: MemberRecord) -> None:
        self._drop(account)
        self._by_account[account] = member
        for key in _keys(member):
            self._accounts.setdefault(key, set()).add(account)

    def update(self, members: Mapping[Account, MemberRecord]) -> None:
        for account, member in members.items():
            self.put(account, member)

    def forget(self, changed: Iterable[tuple[str, int]]) -> None:
        """Drop the accounts of the members and organisations a change names, as (kind, ref) of storage.changes
        (other kinds name no member)."""
        for account in {account for key in changed for account in self._accounts.get(key, ())}:
            self._drop(account)

    def drop(self, accounts: Iterable[Account]) -> None:
        for account in accounts:
            self._drop(account)

    def clear(self) -> None:
        self._by_account.clear()
        self._accounts.clear()

    def _drop(self, account: Account) -> None:
        member = self._by_account.pop(account, None)
        if member is None:
            return
        for key in _keys(member):
            accounts = self._accounts.get(key)
            if accounts is not None:
                accounts.discard(account)
                if not accounts:
                    del self._accounts[key]


def _keys(member: MemberRecord) -> list[tuple[str, int]]:
    return [(MEMBER, member.id)] + ([(ORGANISATION, member.organisation.id)] if member.organisation else [])
