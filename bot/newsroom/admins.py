"""Who may change the record: owners from the config, editors they grant."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from enum import IntEnum

import aiosqlite

from bot.clock import Clock
from bot.errors import UserError
from bot.flood import OncePerWindow
from bot.models import AuditEntry
from storage import admins as store
from storage.db import Database


class Role(IntEnum):
    NOBODY = 0
    EDITOR = 1
    OWNER = 2


class AdminError(UserError, ValueError):
    """An admin request that cannot be carried out, worded for the admin."""


class AdminService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        owner_ids: Collection[int],
        refusals_to_audit: OncePerWindow | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._owner_ids = frozenset(owner_ids)
        # Every refusal is audited unless told otherwise; the bot audits a stranger's
        # once per window, so that nobody can fill the log by repeating a command.
        self._refusals_to_audit = refusals_to_audit or OncePerWindow(0)

    async def role_of(self, user_id: int, conn: aiosqlite.Connection | None = None) -> Role:
        """The user's role now, read in `conn`'s transaction if given."""
        if user_id in self._owner_ids:
            return Role.OWNER
        if await store.is_editor(conn or self._db.reader, user_id):
            return Role.EDITOR
        return Role.NOBODY

    async def roles(self) -> dict[int, Role]:
        """Every admin and their role, for the per-admin command menus."""
        editors = await store.editor_ids(self._db.reader)
        return {user_id: Role.EDITOR for user_id in editors} | {
            user_id: Role.OWNER for user_id in self._owner_ids
        }

    async def grant(self, owner_id: int, user_id: int) -> bool:
        """Make `user_id` an editor; False if they already were one."""
        if user_id in self._owner_ids:
            raise AdminError(f"{user_id} is an owner already (owners are set in the config file).")
        now = self._clock.now()
        return await self._change_editors(
            owner_id, user_id, "grant", lambda conn: store.add_editor(conn, user_id, owner_id, now)
        )

    async def revoke(self, owner_id: int, user_id: int) -> bool:
        """Take editing away from `user_id`; False if they were not an editor."""
        if user_id in self._owner_ids:
            raise AdminError(
                f"{user_id} is an owner; owners are removed from telegram.admins in the config."
            )
        return await self._change_editors(
            owner_id, user_id, "revoke", lambda conn: store.remove_editor(conn, user_id)
        )

    async def _change_editors(
        self,
        owner_id: int,
        user_id: int,
        action: str,
        change: Callable[[aiosqlite.Connection], Awaitable[bool]],
    ) -> bool:
        """Apply `change` and, if it changed anything, audit it in the same transaction."""
        async with self._db.transaction() as conn:
            changed = await change(conn)
            if changed:
                await store.record_action(
                    conn, at=self._clock.now(), actor_id=owner_id, action=action,
                    subject=f"user {user_id}",
                )  # fmt: skip
        return changed

    async def record_refusal(self, user_id: int, attempted: str) -> None:
        if not self._refusals_to_audit.first_in_window(user_id):
            return
        async with self._db.transaction() as conn:
            await store.record_action(
                conn,
                at=self._clock.now(),
                actor_id=user_id,
                action="refused",
                subject=attempted,
            )

    async def recent_actions(self, limit: int) -> list[AuditEntry]:
        return await store.recent_actions(self._db.reader, limit)
