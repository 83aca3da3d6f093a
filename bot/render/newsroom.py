"""What admins see: draft previews, form problems, corrections and the audit log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import tzinfo

from bot.models import AuditEntry, IncidentChange
from bot.newsroom.changes import Preview
from bot.newsroom.forms import Fields, form_text
from bot.render.incidents import esc, format_date, format_time, incident_details


def preview(shown: Preview, zone: tzinfo) -> str:
    lines = [
        f"<b>Draft {shown.draft_id} — not published yet</b>",
        "",
        f"<b>{esc(shown.incident.title)}</b>",
        "",
        incident_details(shown.incident, zone),
    ]
    for other in shown.possible_duplicates:
        lines.append(
            f"\n⚠️ <b>Possible duplicate</b> of #{other.id}: {esc(other.title)} "
            f"({format_date(other.occurred_at, zone)}, {esc(other.location)})"
        )
    return "\n".join(lines)


def form_problems(problems: Sequence[str]) -> str:
    lines = ["<b>The form needs fixing:</b>"]
    lines.extend(f"• {esc(problem)}" for problem in problems)
    lines.append("\nNothing was saved. Send it again with these corrected.")
    return "\n".join(lines)


def editable_form(command: str, fields: Fields, note: str, *, blanks: bool = False) -> str:
    """A form the admin can copy, change and send back."""
    form = form_text(fields, blanks=blanks)
    return f"{esc(note)}\n\n<pre>{esc(command)}\n{esc(form)}</pre>"


def correction_done(change: IncidentChange) -> str:
    incident = change.after
    if incident.is_retracted:
        return f"#{incident.id} is retracted: {esc(incident.retraction_reason or '')}"
    return f"#{incident.id} updated: {esc(', '.join(change.fields))} changed."


def audit_log(entries: Sequence[AuditEntry], zone: tzinfo) -> str:
    if not entries:
        return "The audit log is empty."
    lines = [f"<b>Last {len(entries)} admin actions</b>", ""]
    for entry in entries:
        detail = f" {esc(json.dumps(entry.detail, ensure_ascii=False))}" if entry.detail else ""
        lines.append(
            f"{format_time(entry.at, zone)} · user <code>{entry.actor_id}</code> · "
            f"<b>{esc(entry.action)}</b> {esc(entry.subject)}{detail}"
        )
    return "\n".join(lines)
