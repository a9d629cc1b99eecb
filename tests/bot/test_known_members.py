"""The dispatcher's members in memory (bot/known.py): a change drops exactly the accounts of what it names."""

from __future__ import annotations

import time

from bot.known import KnownMembers
from storage.changes import MEMBER, ORGANISATION
from storage.records import MemberRecord, OrganisationRecord

SCHOOL = OrganisationRecord(id=7, name="De Regenboog", kind="school", werkgebied="Noord")


def member(member_id: int, organisation: OrganisationRecord | None = None) -> MemberRecord:
    return MemberRecord(id=member_id, name=f"Lid {member_id}", title="", email=None, role="",
                        organisation=organisation, identities=(), profile_fetched_at=None)


def test_a_change_drops_the_accounts_of_the_members_and_organisations_it_names_and_no_others() -> None:
    known = KnownMembers()
    known.update({("slack", f"U{n}"): member(n) for n in range(20_000)})
    took = []
    for _ in range(3):  # the fastest of three: what the look-up costs, not what the machine did meanwhile
        known.put(("slack", "U3"), member(3))
        known.put(("matrix", "@fatima:netwerk"), member(3))  # one member, two platforms
        known.put(("slack", "U20000"), member(20_000, SCHOOL))
        known.put(("slack", "U20001"), member(20_001, SCHOOL))
        started = time.perf_counter()
        known.forget([(MEMBER, 3), (ORGANISATION, SCHOOL.id)])
        took.append(time.perf_counter() - started)

    assert ("slack", "U3") not in known and ("matrix", "@fatima:netwerk") not in known
    assert ("slack", "U20000") not in known and ("slack", "U20001") not in known
    assert len(known) == 20_000 - 1 and known.get(("slack", "U4")) == member(4)
    assert min(took) < 0.002  # found by id: not a look through all 20,000 (that took some 5 ms)


def test_a_member_kept_again_is_found_by_their_new_record_only() -> None:
    known = KnownMembers()
    known.put(("slack", "U1"), member(1, SCHOOL))
    known.put(("slack", "U1"), member(1))  # left the school
    known.forget([(ORGANISATION, SCHOOL.id)])
    assert known.get(("slack", "U1")) == member(1)
    known.forget([(MEMBER, 1)])
    assert len(known) == 0
    known.put(("slack", "U2"), member(2))
    known.clear()
    assert ("slack", "U2") not in known
