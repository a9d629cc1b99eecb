"""Round trip of `!expertise gedrag` on Matrix, next to a minimal matrix-nio echo bot on the same Synapse.

    .venv/bin/python bench/matrix_roundtrip.py [--messages 200] [--warmup 20]

Starts a Synapse of its own (tests/synapse.py: SQLite, no federation, relaxed rate limits), then two
bots, each in its own process: the real `netwerkbot matrix` on a SQLite database of 500 members of
whom 60 know about `gedrag`, and a minimal matrix-nio echo bot (log in, long-poll sync, answer every
`!` message with a reply: the floor any nio bot pays). One nio client sends the messages, one at a
time, to the two bots in turn (each in its own room), and measures from sending to having the
bot's reply from its own sync. Goal: bot p50 and p95 ≤ 1.2 × those of the echo floor.

The same again in end-to-end encrypted rooms (issue 21): the asker and the echo bot are encrypting nio
clients too (each with a crypto store of its own), so both bots decrypt the question and encrypt the
reply; the four rooms (plain and encrypted, netwerkbot and echo) are asked in turn.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nio import AsyncClient, AsyncClientConfig, LoginResponse, RoomSendResponse, SyncResponse

from bench.ack_latency import machine
from bot.app import build
from config.settings import Settings
from tests.support import add_expertise, add_member
from tests.synapse import PASSWORD, Synapse

NETWERKBOT = Path(sys.executable).with_name("netwerkbot")
CONFIG = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False)
ENCRYPTION = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


async def keep_keys(client: AsyncClient) -> None:
    """What an encrypting client does after each sync (as nio's sync_forever does)."""
    if client.should_upload_keys:
        await client.keys_upload()
    if client.should_query_keys:
        await client.keys_query()
    if client.should_claim_keys:
        await client.keys_claim(client.get_users_for_key_claiming())
    await client.send_to_device_messages()


# -- the echo floor ------------------------------------------------------------------------------------


async def echo(homeserver: str, user_id: str, store: str) -> None:
    """A minimal encrypting nio bot: join what it is invited to, reply to every `!` message from someone else
    (decrypted and encrypted by nio where the room is encrypted)."""
    client = AsyncClient(homeserver, user_id, store_path=store, config=CONFIG)
    await client.login(PASSWORD, device_name="echo")
    first = await client.sync(timeout=0, full_state=True)
    await keep_keys(client)
    token = first.next_batch if isinstance(first, SyncResponse) else None
    while True:
        response = await client.sync(timeout=30_000, since=token)
        if not isinstance(response, SyncResponse):
            continue
        token = response.next_batch
        await keep_keys(client)
        for room_id in response.rooms.invite:
            await client.join(room_id)
        for room_id, info in response.rooms.join.items():
            for event in info.timeline.events:
                source: dict[str, Any] = event.source
                body = str((source.get("content") or {}).get("body", ""))
                if source.get("type") == "m.room.message" and source.get("sender") != user_id and body.startswith("!"):
                    await client.room_send(room_id, "m.room.message", {
                        "msgtype": "m.notice", "body": body, "m.mentions": {},
                        "m.relates_to": {"m.in_reply_to": {"event_id": source["event_id"]}}},
                        ignore_unverified_devices=True)


# -- the measurement ------------------------------------------------------------------------------------


class Asker:
    """The person asking: sends, and resolves each send when a reply to it arrives in its sync."""

    def __init__(self, synapse: Synapse, user_id: str, store: Path) -> None:
        store.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(synapse.url, user_id, store_path=str(store), config=CONFIG)
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.joined: dict[str, asyncio.Event] = {}
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        logged_in = await self.client.login(PASSWORD, device_name="bench")
        assert isinstance(logged_in, LoginResponse), logged_in
        await self.client.sync(timeout=0, full_state=True)
        await keep_keys(self.client)
        self.task = asyncio.create_task(self.run())

    async def run(self) -> None:
        while True:
            response = await self.client.sync(timeout=30_000)
            if not isinstance(response, SyncResponse):
                continue
            now = time.perf_counter()
            await keep_keys(self.client)
            for room_id, info in response.rooms.join.items():
                for event in info.timeline.events:
                    source: dict[str, Any] = event.source
                    content = source.get("content") or {}
                    if source.get("type") == "m.room.member" and content.get("membership") == "join":
                        self.joined.setdefault(f"{room_id}|{source.get('state_key')}", asyncio.Event()).set()
                    target = ((content.get("m.relates_to") or {}).get("m.in_reply_to") or {}).get("event_id")
                    if target in self.waiting and not self.waiting[target].done():
                        self.waiting[target].set_result(now)

    async def room_with(self, bot: str, *, encrypted: bool = False) -> str:
        created = await self.client.room_create(invite=[bot], initial_state=[ENCRYPTION] if encrypted else [])
        room = str(created.room_id)
        await asyncio.wait_for(self.joined.setdefault(f"{room}|{bot}", asyncio.Event()).wait(), 60)
        return room

    async def ask(self, room: str, text: str) -> float:
        """Seconds from sending `text` until the bot's reply to it arrived."""
        loop = asyncio.get_running_loop()
        early: asyncio.Future[float] = loop.create_future()
        started = time.perf_counter()
        sent = await self.client.room_send(room, "m.room.message", {"msgtype": "m.text", "body": text},
                                           ignore_unverified_devices=True)
        assert isinstance(sent, RoomSendResponse), sent
        future = self.waiting.setdefault(sent.event_id, early)
        try:
            arrived = await asyncio.wait_for(future, 30)
        except TimeoutError:
            return float("nan")  # no reply within 30 s: counted as lost
        finally:
            del self.waiting[sent.event_id]
        return arrived - started

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        await self.client.close()


async def prepare_database(url: str) -> None:
    bot = build(Settings(_env_file=None, database_url=url))
    await bot.start()
    try:
        for n in range(500):
            member = await add_member(bot, f"Lid {n:03d}", user_id=f"@lid{n}:localhost", platform="matrix")
            await add_expertise(bot, member, "gedrag" if n % 8 == 0 else ("dyslexie" if n % 2 else "rekenen"),
                                "ervaring met de klas")
    finally:
        await bot.stop()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def spawn(folder: Path, env: dict[str, str], homeserver: str) -> list[subprocess.Popen[bytes]]:
    """The two bots, each in its own process, logging to bots.log."""
    log = (folder / "bots.log").open("wb")
    return [subprocess.Popen([str(NETWERKBOT), "matrix"], env=env, cwd=folder, stdout=log, stderr=log),
            subprocess.Popen([sys.executable, __file__, "--echo", homeserver, "@echo:localhost",
                              str(folder / "echo-store")], stdout=log, stderr=log)]


async def measure(messages: int, warmup: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="netwerkbot-matrix-bench-"))
    synapse = Synapse(folder / "synapse").start()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        await synapse.register("netwerkbot", displayname="netwerkbot")
        await synapse.register("echo", displayname="echo")
        asker_id, _ = await synapse.register("vrager", displayname="Vrager")
        url = f"sqlite+aiosqlite:///{folder / 'netwerkbot.db'}"
        await prepare_database(url)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NETWERKBOT_", "MATRIX_", "DATABASE_URL"))}
        env.update({"MATRIX_HOMESERVER": synapse.url, "MATRIX_USER_ID": "@netwerkbot:localhost",
                    "MATRIX_PASSWORD": PASSWORD, "DATABASE_URL": url, "NETWERKBOT_LOG_LEVEL": "WARNING"})
        processes.extend(spawn(folder, env, synapse.url))
        (folder / "echo-store").mkdir()
        asker = Asker(synapse, asker_id, folder / "asker-store")
        await asker.start()
        rooms = {"netwerkbot": await asker.room_with("@netwerkbot:localhost"),
                 "echo": await asker.room_with("@echo:localhost"),
                 "netwerkbot e2e": await asker.room_with("@netwerkbot:localhost", encrypted=True),
                 "echo e2e": await asker.room_with("@echo:localhost", encrypted=True)}
        times: dict[str, list[float]] = {name: [] for name in rooms}
        lost = dict.fromkeys(rooms, 0)
        for n in range(warmup + messages):
            for name, room in rooms.items():  # interleaved: what else the machine does falls on both
                took = await asker.ask(room, "!expertise gedrag")
                if took != took:  # NaN: lost
                    lost[name] += 1
                elif n >= warmup:
                    times[name].append(took * 1000)
        await asker.close()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)
        synapse.stop()

    print(f"{machine()}; {messages} messages each after {warmup} warm-up, interleaved, one Synapse")
    print(f"{'bot':<38} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8} {'max ms':>8}")
    figures: dict[str, tuple[float, float]] = {}
    for name, values in times.items():
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        figures[name] = (p50, p95)
        label = ("netwerkbot !expertise gedrag" if name.startswith("netwerkbot") else "matrix-nio echo bot (floor)") \
            + (", encrypted" if name.endswith("e2e") else "")
        print(f"{label:<38} {p50:>8.2f} {p95:>8.2f} {statistics.mean(values):>8.2f} {max(values):>8.2f}"
              + (f"  ({lost[name]} without a reply within 30 s)" if lost[name] else ""))
    for kind, suffix in (("plain rooms", ""), ("encrypted rooms", " e2e")):
        r50 = figures["netwerkbot" + suffix][0] / figures["echo" + suffix][0]
        r95 = figures["netwerkbot" + suffix][1] / figures["echo" + suffix][1]
        verdict = "met" if max(r50, r95) <= 1.2 else "missed"
        print(f"{kind}: ratio bot / echo: p50 {r50:.2f}x, p95 {r95:.2f}x (goal <= 1.2x: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--echo", nargs=3, metavar=("HOMESERVER", "USER_ID", "STORE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo:
        asyncio.run(echo(*args.echo))
    else:
        asyncio.run(measure(args.messages, args.warmup))


if __name__ == "__main__":
    main()
