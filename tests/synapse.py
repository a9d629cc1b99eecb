"""A real Synapse homeserver for tests and benchmarks: SQLite, no federation, relaxed rate limits.

`Synapse(folder).start()` writes its config, generates a signing key, starts
`python -m synapse.app.homeserver` on a free 127.0.0.1 port and waits for `/health` (polling
with a deadline); `register` makes users through the shared-secret admin API. `Person` is an
Element-like client on matrix-nio: it creates rooms, sends, and reads what arrives by syncing.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from nio import Api, AsyncClient, AsyncClientConfig, LoginResponse, RoomCreateResponse, RoomSendResponse, SyncResponse

SECRET = "netwerkbot-test-shared-secret"
PASSWORD = "wachtwoord-van-de-test"
Match = Callable[[str, dict[str, Any]], bool]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(folder: Path, port: int) -> str:
    fast = "{per_second: 10000, burst_count: 10000}"
    flat = "\n".join(f"{name}: {fast}" for name in ("rc_message", "rc_registration", "rc_admin_redaction",
                                                     "rc_3pid_validation", "rc_joins_per_room"))
    nested = "\n".join(f"{name}:\n" + "\n".join(f"  {sub}: {fast}" for sub in subs) for name, subs in (
        ("rc_login", ("address", "account", "failed_attempts")), ("rc_joins", ("local", "remote")),
        ("rc_invites", ("per_room", "per_user", "per_issuer"))))
    return f"""
server_name: localhost
pid_file: {folder}/homeserver.pid
public_baseurl: http://127.0.0.1:{port}/
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: {folder}/homeserver.db
media_store_path: {folder}/media
signing_key_path: {folder}/signing.key
log_config: {folder}/log.yaml
registration_shared_secret: "{SECRET}"
enable_registration: false
report_stats: false
macaroon_secret_key: "macaroon-{uuid.uuid4().hex}"
form_secret: "form-{uuid.uuid4().hex}"
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
bcrypt_rounds: 4
encryption_enabled_by_default_for_room_type: "off"
{flat}
{nested}
"""


LOG_CONFIG = """
version: 1
formatters:
  plain: {format: '%(asctime)s %(levelname)s %(name)s: %(message)s'}
handlers:
  file: {class: logging.FileHandler, filename: FOLDER/homeserver.log, formatter: plain}
root: {level: WARNING, handlers: [file]}
disable_existing_loggers: false
"""


class Synapse:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, deadline_seconds: float = 60.0) -> Synapse:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / "homeserver.yaml"
        path.write_text(config(self.folder, self.port))
        (self.folder / "log.yaml").write_text(LOG_CONFIG.replace("FOLDER", str(self.folder)))
        command = [sys.executable, "-m", "synapse.app.homeserver", "-c", str(path)]
        subprocess.run([*command, "--generate-keys"], check=True, capture_output=True)
        output = (self.folder / "stdout.log").open("wb")
        self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Synapse exited with {self.process.returncode}: "
                                   f"{(self.folder / 'stdout.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)  # polling the condition, with the deadline above
        self.stop()
        raise RuntimeError(f"Synapse did not answer /health within {deadline_seconds} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    async def register(self, localpart: str, *, password: str = PASSWORD, admin: bool = False,
                       displayname: str = "") -> tuple[str, str]:
        """A new user through the shared secret; returns (user id, access token)."""
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        async with aiohttp.ClientSession() as session:
            async with session.get(endpoint) as response:
                nonce = (await response.json())["nonce"]
            mac = hmac.new(SECRET.encode(), digestmod=hashlib.sha1)
            mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode(),
                                     b"admin" if admin else b"notadmin"]))
            body = {"nonce": nonce, "username": localpart, "password": password, "admin": admin,
                    "mac": mac.hexdigest(), "displayname": displayname or localpart}
            async with session.post(endpoint, json=body) as response:
                data = await response.json()
                if response.status != 200:
                    raise RuntimeError(f"registering {localpart}: {data}")
        return str(data["user_id"]), str(data["access_token"])


class Person:
    """An Element-like client: what one person sees and does. With `store` (a folder of its own) it is an
    encrypting client as Element is: it decrypts what it syncs and encrypts what it sends in encrypted rooms."""

    def __init__(self, synapse: Synapse, localpart: str, displayname: str = "", *, store: Path | None = None
                 ) -> None:
        self.synapse = synapse
        self.localpart = localpart
        self.displayname = displayname or localpart
        self.user_id = f"@{localpart}:localhost"
        self.store = store
        if store is not None:
            store.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(synapse.url, self.user_id, store_path=str(store or ""), config=AsyncClientConfig(
            encryption_enabled=store is not None, store_sync_tokens=False))
        self.events: list[tuple[str, dict[str, Any]]] = []  # everything seen, in order
        self.used: set[int] = set()  # positions in `events` a wait has taken
        self.invited: list[tuple[str, str]] = []  # (room id, inviter)
        self.accept_invites = True
        self.decrypted: set[str] = set()  # ids of events that came encrypted and were decrypted

    async def start(self, *, register: bool = True) -> Person:
        """Register (or, with register=False, a new device of an existing account) and take the first sync."""
        token = ""
        if register:
            self.user_id, token = await self.synapse.register(self.localpart, displayname=self.displayname)
        if self.store is None:
            self.client.restore_login(self.user_id, "TESTDEVICE", token)
        else:  # a device of its own (the keys belong to it), its crypto store in `store`
            logged_in = await self.client.login(PASSWORD, device_name=f"test-{uuid.uuid4().hex[:6]}")
            assert isinstance(logged_in, LoginResponse), logged_in
        first = await self.client.sync(timeout=0, full_state=True)
        assert isinstance(first, SyncResponse), first
        await self.keep_keys()
        return self

    async def keep_keys(self) -> None:
        """What an encrypting client does after each sync: its keys uploaded, others' queried, room keys sent."""
        client = self.client
        if client.olm is None:
            return
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()

    async def close(self) -> None:
        await self.client.close()

    async def create_room(self, *, invite: tuple[str, ...] = (), encrypted: bool = False, name: str = "",
                          direct: bool = False) -> str:
        state = [{"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}] \
            if encrypted else []
        created = await self.client.room_create(name=name or None, invite=list(invite), initial_state=state,
                                                is_direct=direct)
        assert isinstance(created, RoomCreateResponse), created
        return str(created.room_id)

    async def send(self, room_id: str, body: str, **content: Any) -> str:
        return await self.send_event(room_id, "m.room.message", {"msgtype": "m.text", "body": body, **content})

    async def send_event(self, room_id: str, kind: str, content: dict[str, Any]) -> str:
        if self.client.olm is not None and room_id not in self.client.rooms:
            await self.sync_once(timeout_ms=0)
        room = self.client.rooms.get(room_id)
        if kind == "m.reaction" and room is not None and room.encrypted:  # nio sends reactions plain; Element not
            if not room.members_synced:
                await self.client.joined_members(room_id)
            if self.client.olm is not None and self.client.olm.should_share_group_session(room_id):
                await self.client.share_group_session(room_id, ignore_unverified_devices=True)
            kind, content = self.client.encrypt(room_id, kind, content)
            method, path, data = Api.room_send(self.client.access_token, room_id, kind, content, uuid.uuid4())
            sent = await self.client._send(RoomSendResponse, method, path, data, (room_id,))
            assert isinstance(sent, RoomSendResponse), sent
            return str(sent.event_id)
        sent = await self.client.room_send(room_id, kind, content, ignore_unverified_devices=True)
        assert isinstance(sent, RoomSendResponse), sent
        return str(sent.event_id)

    async def sync_once(self, timeout_ms: int = 1000) -> None:
        response = await self.client.sync(timeout=timeout_ms)
        if not isinstance(response, SyncResponse):
            return
        for room_id, invite in response.rooms.invite.items():
            inviter = next((e.sender for e in invite.invite_state if getattr(e, "state_key", "") == self.user_id),
                           "")
            self.invited.append((room_id, inviter))
            if self.accept_invites:
                await self.client.join(room_id)
        for room_id, info in response.rooms.join.items():
            self.events.extend((room_id, e.source) for e in info.timeline.events)
            self.decrypted.update(e.event_id for e in info.timeline.events if getattr(e, "decrypted", False))
        for room_id, left in response.rooms.leave.items():
            self.events.extend((room_id, e.source) for e in left.timeline.events)
        await self.keep_keys()

    async def wait(self, match: Match, *, within: float = 20.0, what: str = "") -> dict[str, Any]:
        """The first event not taken before that `match`es (room id, event), syncing until it comes."""
        deadline = time.monotonic() + within
        while True:
            for i, (room_id, event) in enumerate(self.events):
                if i not in self.used and match(room_id, event):
                    self.used.add(i)
                    return event
            if time.monotonic() > deadline:
                seen = [(r, e.get("type"), (e.get("content") or {}).get("body")) for r, e in self.events[-15:]]
                raise AssertionError(f"{self.localpart} waited in vain for {what or match}; last seen: {seen}")
            await self.sync_once()

    async def reply_from(self, sender: str, room_id: str, *, contains: str = "", within: float = 20.0
                         ) -> dict[str, Any]:
        """The next message from `sender` in `room_id` (containing `contains`)."""
        return await self.wait(lambda r, e: r == room_id and e.get("sender") == sender
                               and e.get("type") == "m.room.message"
                               and "m.new_content" not in (e.get("content") or {})
                               and contains in str((e.get("content") or {}).get("body", "")),
                               within=within, what=f"a message from {sender} with {contains!r}")

    async def quiet(self, sender: str, room_id: str, seconds: float = 1.5) -> list[dict[str, Any]]:
        """Messages from `sender` in the room that arrive within `seconds` (for "nothing more was said")."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await self.sync_once(timeout_ms=max(1, int((deadline - time.monotonic()) * 1000)))
        return [e for i, (r, e) in enumerate(self.events) if i not in self.used and r == room_id
                and e.get("sender") == sender and e.get("type") == "m.room.message"]


async def joined(person: Person, room_id: str, user_id: str, within: float = 20.0) -> None:
    await person.wait(lambda r, e: r == room_id and e.get("type") == "m.room.member"
                      and e.get("state_key") == user_id
                      and (e.get("content") or {}).get("membership") == "join",
                      within=within, what=f"{user_id} joining {room_id}")


async def until(condition: Callable[[], bool], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)  # polling a condition with a deadline
