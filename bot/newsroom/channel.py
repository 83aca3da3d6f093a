"""The optional channel feed: every published incident mirrored to a Telegram channel."""

from __future__ import annotations

from datetime import tzinfo

from telegram import Bot

from bot.models import Incident, IncidentChange
from bot.outgoing import edit_html, send_html
from bot.render.corrections import correction_lines
from bot.render.incidents import incident_card
from storage.channel import channel_post_of, remember_channel_post
from storage.db import Database
from storage.incidents import versions_of


class ChannelFeed:
    """A newsroom listener: posts new incidents, and edits the post when they change."""

    def __init__(self, bot: Bot, db: Database, chat_id: int | str, zone: tzinfo) -> None:
        self._bot = bot
        self._db = db
        self._chat_id = chat_id
        self._zone = zone

    async def incident_published(self, incident: Incident) -> None:
        message, *_ = await send_html(self._bot, self._chat_id, incident_card(incident, self._zone))
        async with self._db.transaction() as conn:
            await remember_channel_post(conn, incident.id, message.chat_id, message.message_id)

    async def incident_changed(self, change: IncidentChange) -> None:
        post = await channel_post_of(self._db.reader, change.after.id)
        if post is None:
            return
        chat_id, message_id = post
        versions = await versions_of(self._db.reader, change.after.id)
        card = incident_card(change.after, self._zone, correction_lines(versions, self._zone))
        await edit_html(self._bot, chat_id, message_id, card)
