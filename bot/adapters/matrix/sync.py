"""Matrix: logging in once per device, and the `/sync` loop whose position moves only after a sync was handled.

A part of `MatrixAdapter` (bot/adapters/matrix/adapter.py), in a module of its own to keep both short.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import ClientError
from nio import ErrorResponse, JoinedMembersResponse, LoginResponse, SyncError, SyncResponse, WhoamiResponse

from bot.adapters.matrix import crypto
from bot.core.inputs import MembershipChanged
from bot.core.port import DeliveryDelayed, DeliveryRefused
from config.settings import CIRCLE_ROLES

if TYPE_CHECKING:
    from bot.adapters.matrix.adapter import MatrixAdapter

log = logging.getLogger(__name__)


# -- login and the sync loop -----------------------------------------------------------------------


async def login(adapter: MatrixAdapter) -> None:
    """Log in once per device: a token kept in the database is used again (so no new device), else the
    access token of the settings, else the password (the device keeps its id on a new login)."""
    s = adapter.port.settings
    saved = await adapter.state.login(adapter.user_id)
    token, device = "", ""
    if saved is not None:
        token, device = saved.access_token, saved.device_id
        adapter.next_batch = saved.next_batch
    elif s.matrix_access_token is not None:
        token = s.matrix_access_token.get_secret_value()
    if token:  # which device the token belongs to, before its crypto store is opened
        adapter.client.user_id, adapter.client.access_token = adapter.user_id, token
        whoami = await adapter.client.whoami()
        if isinstance(whoami, WhoamiResponse) and whoami.user_id == adapter.user_id:
            device = whoami.device_id or device
        else:
            log.warning("the kept Matrix token does not work (%s); logging in again", whoami)
            token = ""
    if not token:
        token, device = await password_login(adapter, device)
    adapter.client.restore_login(adapter.user_id, device, token)  # opens the device's crypto store
    if await crypto.store_lost(adapter.client):  # the device's keys are on the server, not in the store
        if s.matrix_password is None:
            raise RuntimeError(adapter.t("e2e.store_lost", device=device, folder=s.matrix_store))
        log.error("the Matrix crypto store in %s has no keys of device %s (lost or moved without it): "
                  "logging in as a new device; what was encrypted for the old one stays unreadable",
                  s.matrix_store, device)
        crypto.forget_store(adapter.client)
        token, device = await password_login(adapter, "")
        adapter.client.restore_login(adapter.user_id, device, token)
    crypto.share_state(adapter.client, adapter.outbox_client)
    adapter.outbox_client.restore_login(adapter.user_id, device, token)
    adapter.device_id = device
    adapter.crypto.loaded()
    await adapter.crypto.keep_up()  # the device's keys uploaded before anyone encrypts for it
    await adapter.state.save_login(adapter.user_id, device, token)
    if saved is not None and saved.device_id != device:
        adapter.next_batch = ""


async def password_login(adapter: MatrixAdapter, device: str) -> tuple[str, str]:
    """A login with the password: on `device` when given (it keeps its id), else as a new device."""
    s = adapter.port.settings
    if s.matrix_password is None:
        raise RuntimeError(adapter.t("matrix.cannot_login"))
    adapter.client.access_token = ""
    adapter.client.device_id = device or None
    response = await adapter.client.login(s.matrix_password.get_secret_value(), device_name=s.matrix_device_name)
    if not isinstance(response, LoginResponse):
        raise RuntimeError(adapter.t("matrix.login_failed", error=str(response)))
    return response.access_token, response.device_id


async def run(adapter: MatrixAdapter) -> None:
    """Sync until cancelled. A failing sync is tried again after a pause; its events are not lost (the
    position moves only after a sync was handled). Without a position (the very first start, a new
    device) the first sync only takes one: nothing said before is answered."""
    pause = 1.0
    while True:
        history = bool(adapter.next_batch)
        try:
            response = await adapter.client.sync(timeout=adapter.sync_timeout_ms if history else 0,
                                              since=adapter.next_batch or None, full_state=None if history else True)
        except (ClientError, OSError, TimeoutError) as error:
            response = SyncError(str(error))
        if isinstance(response, SyncError):
            log.warning("Matrix sync failed: %s; again in %.0f s", response, pause)
            await asyncio.sleep(pause)  # a back-off between tries, not a clock
            pause = min(pause * 2, 60.0)
            continue
        pause = 1.0
        await handle(adapter, response, history=history)


async def handle(adapter: MatrixAdapter, response: SyncResponse, *, history: bool = True) -> None:
    """One sync: invitations, then the rooms' events; then the position, so a restart goes on from here."""
    for room_id, invite in response.rooms.invite.items():
        await guarded(adapter, adapter.on_invite, room_id, [e.source for e in invite.invite_state])
    if history:
        await asyncio.gather(*(guarded(adapter, adapter.on_room, room_id, [e.source for e in info.timeline.events],
                                            [e.source for e in info.state])
                               for room_id, info in response.rooms.join.items()))
    await guarded(adapter, adapter.crypto.keep_up)  # keys: uploaded, queried, claimed, room keys sent
    await guarded(adapter, adapter.crypto.retry)  # what could not be decrypted, if its key came now
    adapter.next_batch = response.next_batch
    try:
        await adapter.state.save_position(adapter.user_id, adapter.next_batch)
    except Exception as error:  # the next sync saves it; after a restart in between, the deliveries
        log.warning("could not keep the Matrix sync position: %s", error)  # table keeps events once
    if not adapter.circles_read:
        adapter.circles_read = True
        await guarded(adapter, sync_circles, adapter)
    adapter.syncs += 1
    adapter.synced.set()


async def sync_circles(adapter: MatrixAdapter) -> None:
    """The members of the circles' rooms (joined_members); after that, m.room.member events keep them."""
    for role in CIRCLE_ROLES:
        room_id = adapter.port.settings.channel(role, "matrix")
        if not room_id:
            continue
        found = await adapter.client.joined_members(room_id)
        if not isinstance(found, JoinedMembersResponse):
            log.warning("members of the %s room not read: %s", role, found)
            continue
        members = tuple(m.user_id for m in found.members if m.user_id != adapter.user_id)
        await adapter.port.membership(MembershipChanged("matrix", room_id, members=members))


async def guarded(adapter: MatrixAdapter, work: Callable[..., Awaitable[None]], *args: Any) -> None:
    """Run one piece of handling; a failure is logged and does not stop the others (nor the sync)."""
    try:
        await work(*args)
    except Exception:
        log.exception("handling a Matrix event failed")


async def close(adapter: MatrixAdapter) -> None:
    await adapter.drain()
    await adapter.client.close()
    await adapter.outbox_client.close()


def sorted_error(response: ErrorResponse) -> Exception:
    """Matrix's answer as the outbox reads it: 429 and 5xx are for later, the rest (forbidden, unknown room) never."""
    status = getattr(getattr(response, "transport_response", None), "status", 0) or 0
    code = str(response.status_code or "")
    if code == "M_LIMIT_EXCEEDED" or status == 429:
        retry = response.retry_after_ms
        return DeliveryDelayed(f"Matrix {status} {code}", retry / 1000 if retry else None)
    if status >= 500 or (not status and not code):
        return DeliveryDelayed(f"Matrix {status} {code}: {response.message}")
    return DeliveryRefused(f"Matrix refused: {status} {code} {response.message}")
