"""The Matrix adapter in end-to-end encrypted rooms, on the real Synapse: the people are encrypting
matrix-nio clients (as Element is), each with a crypto store of its own; the bot decrypts what they say
and encrypts what it says. `person.decrypted` holds the events that came encrypted and that person's
device could read. What a person sees is read by syncing, never by sleeping."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import aiohttp
import pytest

from bot.adapters.matrix import metrics_served
from bot.core.clock import ManualClock
from bot.core.port import Sending, _sending
from bot.core.reply import Reply, reply_to_json
from tests.adapters.test_matrix_votes import POLL_TYPES, answer, from_bot_elsewhere
from tests.conftest import AMS
from tests.matrix_support import MatrixWorld, body, content, matrix_world
from tests.support import add_expertise, add_member
from tests.synapse import Person, free_port, until

world = pytest.fixture(matrix_world, name="world")


async def test_a_command_in_an_encrypted_room_is_answered_encrypted(world: MatrixWorld) -> None:
    anna = await world.person("anna", "Anna de Vries")
    async with world.bot() as (bot, adapter):
        piet = await add_member(bot, "Piet", user_id=world.user_id("piet"), platform="matrix")
        await add_expertise(bot, piet, "gedrag", "Gedragsspecialist")
        room = await world.room_with_bot(anna, encrypted=True)
        asked = await anna.send(room, "!expertise gedrag")
        answer_ = await anna.reply_from(world.bot_id, room, contains="Expertise: gedrag")
        assert await anna.quiet(world.bot_id, room, seconds=1.0) == []  # answered once
    assert answer_["event_id"] in anna.decrypted  # it came as m.room.encrypted, and her device could read it
    assert content(answer_)["m.relates_to"] == {"m.in_reply_to": {"event_id": asked}}
    assert "Piet" in body(answer_)
    assert adapter.crypto.counts["seen"] == 0


async def test_a_room_that_turns_encryption_on_keeps_the_bot(world: MatrixWorld) -> None:
    anna = await world.person("anna")
    async with world.bot() as (_, adapter):
        room = await world.room_with_bot(anna)
        await anna.send(room, "!netwerkbot")
        plain = await anna.reply_from(world.bot_id, room)
        await anna.client.room_put_state(room, "m.room.encryption", {"algorithm": "m.megolm.v1.aes-sha2"})
        await anna.wait(lambda r, e: r == room and e.get("type") == "m.room.encryption", what="encryption on")
        await anna.send(room, "!expertise")
        later = await anna.reply_from(world.bot_id, room, contains="expertise")
    assert plain["event_id"] not in anna.decrypted
    assert later["event_id"] in anna.decrypted
    assert not [e for r, e in anna.events if r == room and e.get("type") == "m.room.member"
                and e.get("state_key") == world.bot_id and content(e)["membership"] == "leave"]
    assert adapter.crypto.counts["seen"] == 0


async def test_a_native_poll_in_an_encrypted_room_is_answered_and_tallied(world: MatrixWorld,
                                                                          clock: ManualClock) -> None:
    marieke = await world.person("marieke", "Marieke")
    anna = await world.person("anna")
    async with world.bot(coordinators=frozenset({f"matrix:{world.user_id('marieke')}"})) as (bot, _):
        await add_member(bot, "anna", user_id=anna.user_id, platform="matrix")
        room = await world.room_with_bot(marieke, anna, encrypted=True)
        # the form: a dialog in Marieke's direct room, which the bot opened encrypted
        await marieke.send(room, "!stemming")
        for asked, typed in (("Vraag", "Financieren we de groeiklas?"), ("Keuzes", "ok"), ("Soort stemming", "ok"),
                             ("Hoeveel keuzes", "leeg"), ("Wie stemt", "1"), ("Alleen werkgebied", "leeg"),
                             ("Geheim of open", "ok"), ("Tussenstand", "ok"),
                             ("Sluit op", "vrijdag 17:00"), ("Quorum", "leeg"), ("Drempel", "leeg")):
            await answer(marieke, world, room, asked, typed)
        posted = await marieke.wait(from_bot_elsewhere(world, room, "Stemming #1 staat in het kanaal"),
                                    what="the vote posted")
        poll = await anna.wait(lambda r, e: r == room and e.get("type") in POLL_TYPES, what="the poll")
        ids = [a["id"] for a in content(poll)["org.matrix.msc3381.poll.start"]["answers"]]
        await anna.reply_from(world.bot_id, room, contains="0 stemmen uitgebracht")
        await anna.send_event(room, "m.poll.response", {
            "m.relates_to": {"rel_type": "m.reference", "event_id": poll["event_id"]}, "m.selections": [ids[0]]})
        confirmed = await anna.wait(from_bot_elsewhere(world, room, "Je stem: voor"), what="Anna's confirmation")
        tallied = await anna.wait(lambda r, e: r == room and e.get("sender") == world.bot_id
                                  and "voor: 1" in content(e).get("m.new_content", {}).get("body", ""),
                                  what="the tally edited")
        clock.set(datetime(2026, 11, 27, 17, 0, tzinfo=AMS))
        await bot.scheduler.run_due()
        await bot.outbox.flush()
        result = await anna.reply_from(world.bot_id, room, contains="Uitslag stemming #1")
    dm = next(r for r, e in marieke.events if e is posted)
    dm_state = marieke.client.rooms[dm]
    assert dm_state.encrypted  # the direct room the bot opened is encrypted, and every step of the dialog was
    assert all(e["event_id"] in marieke.decrypted for r, e in marieke.events
               if r == dm and e.get("sender") == world.bot_id and e.get("type") == "m.room.message")
    for event in (poll, confirmed, tallied, result):
        assert event["event_id"] in anna.decrypted
    assert "voor: 1" in body(result)


async def test_a_reminder_from_the_outbox_is_delivered_encrypted_once(world: MatrixWorld) -> None:
    anna = await world.person("anna")
    async with world.bot() as (bot, adapter):
        room = await world.room_with_bot(anna, encrypted=True)
        bot.settings.matrix_room_consultants = room
        await anna.send(room, "!netwerkbot")  # Anna is a member now: the bot knows her
        await anna.reply_from(world.bot_id, room)
        async with bot.db.transaction() as repos:
            await repos.outbox.enqueue("consultants", reply_to_json(Reply.text("Herinnering: dinsdag overleg")),
                                       bot.clock.now())
            member = await repos.members.by_identity("matrix", anna.user_id)
            assert member is not None
            await repos.outbox.enqueue(f"member:{member.id}", reply_to_json(Reply.text("Persoonlijke herinnering")),
                                       bot.clock.now())
        assert await bot.outbox.flush() == 2
        reminder = await anna.reply_from(world.bot_id, room, contains="Herinnering")
        personal = await anna.wait(lambda r, e: r != room and e.get("sender") == world.bot_id
                                   and body(e) == "Persoonlijke herinnering", what="the direct message")
        # the same outbox message sent again (a crash between Synapse taking it and the outbox noting it):
        # the same transaction id, so Synapse gives the first event back and no second message appears
        token = _sending.set(Sending(999_999, resend=True, since=bot.clock.now()))
        try:
            first = await adapter.send("consultants", Reply.text("Nog een herinnering"))
            again = await adapter.send("consultants", Reply.text("Nog een herinnering"))
        finally:
            _sending.reset(token)
        await anna.reply_from(world.bot_id, room, contains="Nog een herinnering")
        assert await anna.quiet(world.bot_id, room, seconds=1.0) == []
    assert first == again
    assert reminder["event_id"] in anna.decrypted and personal["event_id"] in anna.decrypted


async def test_after_a_restart_the_bot_still_reads_and_is_read(world: MatrixWorld) -> None:
    anna = await world.person("anna")
    async with world.bot() as (_, adapter):
        room = await world.room_with_bot(anna, encrypted=True)
        await anna.send(room, "!expertise")
        await anna.reply_from(world.bot_id, room, contains="expertise")
        device = adapter.device_id
    await anna.send(room, "!netwerkbot")  # while the bot is down: encrypted with the session it knows
    async with world.bot() as (_, again):
        meanwhile = await anna.reply_from(world.bot_id, room)
        await anna.send(room, "!expertise")
        later = await anna.reply_from(world.bot_id, room, contains="expertise")
        assert await anna.quiet(world.bot_id, room, seconds=1.0) == []
    assert again.device_id == device  # the same device, its keys from the crypto store
    assert again.crypto.counts["seen"] == 0  # nothing it could not decrypt
    assert meanwhile["event_id"] in anna.decrypted and later["event_id"] in anna.decrypted
    assert "!expertise" in body(meanwhile)


async def test_a_new_device_of_a_member_mid_conversation(world: MatrixWorld, caplog: pytest.LogCaptureFixture
                                                         ) -> None:
    caplog.set_level(logging.INFO, logger="bot.adapters.matrix.crypto")
    anna = await world.person("anna")
    async with world.bot() as (_, adapter):
        room = await world.room_with_bot(anna, encrypted=True)
        await anna.send(room, "!expertise")
        await anna.reply_from(world.bot_id, room, contains="expertise")
        phone = await world.new_device(anna)  # Anna logs in on her phone
        await phone.send(room, "!netwerkbot")
        on_phone = await phone.reply_from(world.bot_id, room, contains="!expertise")
        on_laptop = await anna.reply_from(world.bot_id, room, contains="!expertise")
    assert on_phone["event_id"] in phone.decrypted and on_laptop["event_id"] in anna.decrypted
    assert adapter.crypto.counts["seen"] == 0
    logged = [r.getMessage() for r in caplog.records if "new Matrix device" in r.getMessage()]
    assert any(str(phone.client.device_id) in line for line in logged)
    assert not any("!netwerkbot" in r.getMessage() for r in caplog.records)  # never a message's text


async def test_a_message_without_its_key_is_answered_once_when_the_key_arrives(world: MatrixWorld) -> None:
    anna = await world.person("anna")
    port = free_port()
    async with world.bot() as (bot, adapter), metrics_served(bot, adapter, port):
        room = await world.room_with_bot(anna, encrypted=True)
        await anna.send(room, "!netwerkbot")
        await anna.reply_from(world.bot_id, room)
        bot_device = anna.client.device_store[world.bot_id][adapter.device_id]
        anna.client.blacklist_device(bot_device)  # her client leaves the bot's device out of a new room key
        anna.client.invalidate_outbound_session(room)
        await anna.send(room, "!expertise")
        olm: Any = anna.client.olm
        session_id = olm.outbound_group_sessions[room].id
        await until(lambda: adapter.crypto.counts["seen"] == 1)
        assert await anna.quiet(world.bot_id, room, seconds=1.0) == []  # nothing it could read yet
        # her client answers the bot's key request, as Element does: the room key forwarded to the bot's device
        anna.client.unblacklist_device(bot_device)
        inbound = olm.inbound_group_store.get(room, olm.account.identity_keys["curve25519"], session_id)
        olm_session = olm.session_store.get(bot_device.curve25519)
        olm.outgoing_to_device_messages.append(olm._encrypt_forwarding_key(room, inbound, olm_session, bot_device))
        await anna.client.send_to_device_messages()
        late = await anna.reply_from(world.bot_id, room, contains="expertise")
        assert await anna.quiet(world.bot_id, room, seconds=1.5) == []  # once
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as response:
            scraped = await response.text()
    assert 'netwerkbot_matrix_undecryptable_total{state="seen"} 1.0' in scraped
    assert 'netwerkbot_matrix_undecryptable_total{state="recovered"} 1.0' in scraped
    assert adapter.crypto.counts["recovered"] == 1
    assert late["event_id"] in anna.decrypted


async def test_with_verified_trust_only_the_listed_devices_can_read_the_bot(world: MatrixWorld) -> None:
    anna = await world.person("anna")
    bert = await world.person("bert")
    listed = anna.client.olm.account.identity_keys["ed25519"]  # her session key, as Element shows it
    async with world.bot(matrix_trust="verified", matrix_verified_keys=frozenset({listed})):
        room = await world.room_with_bot(anna, bert, encrypted=True)
        await bert.send(room, "!expertise")  # the bot reads Bert (decrypting needs no trust) ...
        answer_ = await anna.reply_from(world.bot_id, room, contains="expertise")
        sealed = await bert.wait(lambda r, e: r == room and e.get("sender") == world.bot_id
                                 and e.get("type") == "m.room.encrypted", what="the answer Bert cannot read")
    assert answer_["event_id"] in anna.decrypted
    assert sealed["event_id"] == answer_["event_id"]  # ... but only Anna's listed device got the room key
    assert not [e for r, e in bert.events if r == room and e.get("sender") == world.bot_id
                and e.get("type") == "m.room.message"]


async def until_known(person: Person, user_id: str, device_id: str) -> None:
    """Sync until the person's client knows this device (Element learns it from the device-list changes)."""
    for _ in range(40):
        if device_id in person.client.device_store[user_id]:
            return
        await person.sync_once(timeout_ms=250)
    raise AssertionError(f"{person.localpart} never learned of device {device_id}")


async def test_a_lost_crypto_store_makes_a_new_device_that_works(world: MatrixWorld) -> None:
    import shutil

    anna = await world.person("anna")
    async with world.bot() as (bot, adapter):
        room = await world.room_with_bot(anna, encrypted=True)
        store = bot.settings.matrix_store
        device = adapter.device_id
    shutil.rmtree(store)  # moved to another machine without the folder
    async with world.bot() as (_, again):
        await until_known(anna, world.bot_id, again.device_id)  # her client sees the bot's new device
        await anna.send(room, "!expertise")
        answer_ = await anna.reply_from(world.bot_id, room, contains="expertise")
    assert again.device_id != device  # its old keys are gone: a new device, announced to the room's members
    assert answer_["event_id"] in anna.decrypted
