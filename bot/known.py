"""The members the dispatcher keeps in memory, by platform account, with what a change names found directly.

A change to a member or an organisation (storage.changes) drops only the accounts of the members it names. Found
by looking through every kept member, that cost the input after each change 0.29 ms with 1,000 members kept, and
grew with every member kept (issue 19); by member and organisation id it costs the same with 20,000.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from storage.records import MemberRecord

Account = tuple[str, str]  # (platform, user id)


class KnownMembers:
    def __init__(self) -> None:
        self._by_account: dict[Account, MemberRecord] = {}
        self._accounts: dict[tuple[str, int], set[Account]] = {}  # ("member" or "organisation", id) -> accounts

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

    def forget(self, members: Collection[int], organisations: Collection[int]) -> None:
        """Drop the accounts of these members, and of the members of these organisations."""
        keys = [("member", m) for m in members] + [("organisation", o) for o in organisations]
        for account in {account for key in keys for account in self._accounts.get(key, ())}:
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
    return [("member", member.id)] + ([("organisation", member.organisation.id)] if member.organisation else [])
