"""Matrix: end-to-end encryption. matrix-nio (its `e2e` extra, on vodozemac) decrypts what a sync brings and
encrypts what the bot sends in an encrypted room; this module keeps its keys and decides whom they go to.

- The crypto store (the device's keys, Olm and Megolm sessions, the devices seen) is nio's SQLite store in
  one folder (`Settings.matrix_store`, MATRIX_STORE_PATH): it outlives restarts; the device id stays the one
  kept in the database, so the store and the device belong together.
- Keys are kept up after every sync: the device's own keys uploaded, the members' devices queried, Olm
  sessions claimed, queued to-device messages (room keys) sent.
- Trust (MATRIX_TRUST): `tofu` shares room keys with every device of the room's members, and logs a device
  the first time it is seen (who and which device; never a message). `verified` shares them only with the
  devices whose session key is listed in MATRIX_VERIFIED_KEYS; the others are blacklisted.
- A message the bot cannot decrypt (its room key did not reach the bot's device) is counted, its key is
  requested from the sender's device and the bot's own, and it is kept; when the key arrives (a room key or a
  forwarded one) it is decrypted and handled then, once: its event id is its delivery id.

A part of `MatrixAdapter` (bot/adapters/matrix/adapter.py), in a module of its own to keep both short.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from typing import TYPE_CHECKING, Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    KeysUploadError,
    LocalProtocolError,
    MatrixRoom,
    MegolmEvent,
    RoomGetStateEventError,
)

from bot.adapters.matrix import sync

if TYPE_CHECKING:
    from bot.adapters.matrix.adapter import MatrixAdapter

log = logging.getLogger(__name__)

STORE_NAME = "crypto.db"
PENDING_LIMIT = 1000  # undecryptable events kept for a retry
# the state event that makes a room the bot creates (a direct room, a group's room) encrypted
ENCRYPTION = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


def config(**limits: Any) -> AsyncClientConfig:
    """nio with encryption, its store in STORE_NAME; the sync position is the database's, not nio's."""
    return AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False, store_name=STORE_NAME, **limits)


async def store_lost(client: AsyncClient) -> bool:
    """True when the store made new keys for a device that already has keys on the server (the homeserver
    refuses them): the store of that device is gone, and with it what it could decrypt."""
    if client.olm is None or client.olm.account.shared:
        return False
    return isinstance(await client.keys_upload(), KeysUploadError)


def forget_store(client: AsyncClient) -> None:
    """Close the store opened for a device whose keys were lost, so a new login opens one of its own."""
    client.store, client.olm = None, None
    client.encrypted_rooms = set()


def share_state(main: AsyncClient, other: AsyncClient) -> None:
    """`other` (the outbox's client: the same device, other time limits) encrypts with `main`'s keys and
    rooms: one Olm machine per device, or the two would hand out different sessions."""
    other.store, other.olm = main.store, main.olm
    other.rooms, other.invited_rooms, other.encrypted_rooms = main.rooms, main.invited_rooms, main.encrypted_rooms
    other.sharing_session = main.sharing_session


def created(client: AsyncClient, room_id: str, invited: list[str], *, encrypted: bool = True) -> None:
    """A room known to nio before its sync brings it (one the bot just made): encrypted, and the invited
    people receive the room key of what the bot says before they join (their devices are queried first)."""
    if client.olm is None:
        return
    # a sync running meanwhile may have brought the room half made (before the invite, before its encryption
    # state): then the room key of the first message would reach nobody, or the message would go out plain
    room = client.rooms.get(room_id)
    if room is None:
        room = client.rooms[room_id] = MatrixRoom(room_id, client.user_id, encrypted=encrypted)
    for user in invited:
        if user not in room.users:
            room.add_member(user, None, None, invited=True)
    if encrypted:
        room.encrypted = True
        client.encrypted_rooms.add(room_id)
        client.olm.update_tracked_users(room)


class Crypto:
    def __init__(self, adapter: MatrixAdapter) -> None:
        self.adapter = adapter
        self.settings = adapter.port.settings
        self.known: set[tuple[str, str]] = set()  # (user, device) seen: a new one is logged
        self.pending: dict[str, tuple[str, MegolmEvent]] = {}  # event id → (room, the encrypted event)
        self.counts: Counter[str] = Counter()  # undecryptable: seen, recovered

    @property
    def client(self) -> AsyncClient:
        return self.adapter.client

    def loaded(self) -> None:
        """After the store is loaded: the devices it knows are not new; a forwarded key is taken from the device
        that made it too (nio takes forwards only from the bot's own devices, which it has none of)."""
        olm = self.client.olm
        if olm is None:
            return
        self.known = {(d.user_id, d.id) for d in self.client.device_store}
        own_devices_only = olm._should_accept_forward

        def accept(sender: str, sender_key: str, event: Any) -> bool:
            # the device that encrypted a message the bot could not read answers its key request (as Element
            # does): as good as the room key it would have sent, and only for the session it made itself
            made_it = any(e.sender == sender and e.sender_key == sender_key and e.session_id == event.session_id
                          for _, e in self.pending.values())
            return (made_it and event.session_id in olm.outgoing_key_requests) or own_devices_only(
                sender, sender_key, event)

        olm._should_accept_forward = accept

    async def keep_up(self) -> None:
        """Upload the device's keys, query the members' devices, claim Olm sessions, send room keys."""
        client = self.client
        if client.olm is None:
            return
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
            self.note_devices()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()

    def note_devices(self) -> None:
        for device in self.client.device_store:
            if (device.user_id, device.id) in self.known or device.deleted:
                continue
            self.known.add((device.user_id, device.id))
            if device.user_id == self.adapter.user_id and device.id == self.adapter.device_id:
                continue
            trusted = self.settings.matrix_trust == "tofu" or device.ed25519 in self.settings.matrix_verified_keys
            log.info("new Matrix device %s of %s (key %s): %s", device.id, device.user_id, device.ed25519,
                     "room keys shared (MATRIX_TRUST=tofu)" if self.settings.matrix_trust == "tofu" else
                     "verified: room keys shared" if trusted else "not verified: no room keys")

    async def before_send(self, client: AsyncClient, room_id: str) -> None:
        """A room no sync brought yet is looked up (encrypted or not; refused when the bot is not in it).
        Before a new room key goes out, every member's devices are known; with MATRIX_TRUST=verified the
        unverified ones are blacklisted (no keys)."""
        if client.olm is not None and room_id not in client.rooms:
            state = await client.room_get_state_event(room_id, "m.room.encryption")
            found: dict[str, Any] = getattr(state, "content", None) or {}  # (nio parses an error as a response)
            if isinstance(state, RoomGetStateEventError) or found.get("errcode"):
                error = RoomGetStateEventError.from_dict(found or {"errcode": "", "error": str(state)}, room_id)
                error.transport_response = state.transport_response
                if error.status_code != "M_NOT_FOUND":
                    raise sync.sorted_error(error)
            created(client, room_id, [], encrypted=bool(found.get("algorithm")))
        room = client.rooms.get(room_id)
        if client.olm is None or room is None or not room.encrypted:
            return
        if client.olm.should_share_group_session(room_id):  # a new room key: every member's devices known first
            if not room.members_synced:
                await client.joined_members(room_id)
            device_store = client.device_store
            client.olm.users_for_key_query.update(user for user in room.users
                                                  if not any(device_store.active_user_devices(user)))
            if client.should_query_keys:
                await client.keys_query()
                self.note_devices()
        if self.settings.matrix_trust != "verified":
            return
        for user in room.users:
            for device in client.device_store.active_user_devices(user):
                if device.ed25519 in self.settings.matrix_verified_keys:
                    if not client.olm.is_device_verified(device):
                        client.verify_device(device)
                elif not client.olm.is_device_blacklisted(device):
                    client.blacklist_device(device)

    # -- messages the bot could not decrypt ------------------------------------------------------------

    async def undecryptable(self, room_id: str, source: dict[str, Any]) -> None:
        """Count it, ask for its key (the sender's device and the bot's own), keep it for when the key comes."""
        event = MegolmEvent.from_dict(source)
        if not isinstance(event, MegolmEvent) or event.event_id in self.pending:
            return
        event.room_id = room_id
        self.counts["seen"] += 1
        if self.client.olm is None:
            return
        log.warning("cannot decrypt Matrix event %s in %s from %s (device %s): room key requested (%d so far)",
                    event.event_id, room_id, event.sender, event.device_id, self.counts["seen"])
        if len(self.pending) >= PENDING_LIMIT:
            self.pending.pop(next(iter(self.pending)))
        self.pending[event.event_id] = (room_id, event)
        with contextlib.suppress(LocalProtocolError):  # (raised when this session's key was asked for already)
            await self.client.request_room_key(event)  # to the bot's own devices; nio accepts the forwarded key
        if event.device_id:
            request = event.as_key_request(event.sender, self.adapter.device_id, device_id=event.device_id)
            await self.client.to_device(request)

    async def retry(self) -> None:
        """After a sync: the kept events whose room key has arrived are decrypted and handled now."""
        olm = self.client.olm
        if olm is None or not self.pending:
            return
        for event_id, (room_id, event) in list(self.pending.items()):
            if olm.inbound_group_store.get(room_id, event.sender_key, event.session_id) is None:
                continue
            del self.pending[event_id]
            try:
                decrypted = self.client.decrypt_event(event)
            except Exception as error:  # a broken or replayed message: not answered
                log.warning("Matrix event %s still not decryptable: %s", event_id, type(error).__name__)
                continue
            self.counts["recovered"] += 1
            log.info("decrypted Matrix event %s after its room key arrived", event_id)
            await self.adapter.on_room(room_id, [decrypted.source], [], again=True)
