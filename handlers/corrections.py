"""/edit and /retract: corrections to published incidents."""

from __future__ import annotations

import re

from telegram import Update

from bot.context import BotContext
from bot.models import IncidentChange
from bot.newsroom.changes import AwaitingApproval
from bot.newsroom.forms import FormError, fields_from_incident, parse_form
from bot.numbers import bounded_int
from bot.render.corrections import history_text
from bot.render.newsroom import correction_done, editable_form
from handlers.incidents import parse_incident_id
from handlers.incoming import acting_user, message_of, text_after_command
from handlers.posting import ask_second_approval
from handlers.replies import UsageError, reply_html

_ID_THEN_REST = re.compile(r"#?([0-9]+)(?:\s+(.*))?$", re.DOTALL | re.ASCII)
_EDIT_USAGE = (
    "Give the incident's number and the lines to change, e.g.\n/edit 12\ninjured: at least 7"
)


async def edit(update: Update, context: BotContext) -> None:
    incident_id, form = _id_and_rest(update, _EDIT_USAGE)
    services = context.services
    if not form:
        incident = await services.incidents.get(incident_id)
        if incident is None:
            raise UsageError(f"There is no incident #{incident_id}.")
        fields = fields_from_incident(incident, services.timezone)
        note = f"#{incident_id} as it stands. Keep only the lines to change, edit them, send:"
        await reply_html(update, editable_form(f"/edit {incident_id}", fields, note))
        return
    parsed = parse_form(form)
    if parsed.problems:
        raise FormError(parsed.problems)
    user = acting_user(update)
    change = await services.newsroom.edit(incident_id, parsed.fields, user.id, user.full_name)
    await changed_or_waiting(update, context, change)


async def retract(update: Update, context: BotContext) -> None:
    incident_id, reason = _id_and_rest(
        update, "Give the incident's number and why, e.g. /retract 12 Duplicate of #11"
    )
    if not reason:
        raise UsageError("Say why it is retracted, e.g. /retract 12 Duplicate of #11")
    user = acting_user(update)
    change = await context.services.newsroom.retract(incident_id, reason, user.id, user.full_name)
    await changed_or_waiting(update, context, change)


async def changed_or_waiting(
    update: Update, context: BotContext, change: IncidentChange | AwaitingApproval
) -> None:
    """What was corrected; or, under the two-person rule, the correction sent to the others."""
    if isinstance(change, AwaitingApproval):
        await ask_second_approval(update, context, change)
    else:
        await reply_html(update, correction_done(change, context.services.timezone))


async def history(update: Update, context: BotContext) -> None:
    incident_id = parse_incident_id(context.args or [], "history")
    services = context.services
    if await services.incidents.get(incident_id) is None:
        raise UsageError(f"There is no incident #{incident_id}.")
    versions = await services.incidents.versions(incident_id)
    await reply_html(update, history_text(incident_id, versions, services.timezone))


def _id_and_rest(update: Update, usage: str) -> tuple[int, str]:
    """The incident number that starts the text, and whatever follows it."""
    match = _ID_THEN_REST.match(text_after_command(message_of(update)))
    incident_id = bounded_int(match.group(1)) if match else None
    if match is None or incident_id is None:
        raise UsageError(usage)
    return incident_id, (match.group(2) or "").strip()
