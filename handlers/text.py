"""Reading the raw text that follows a command, newlines kept (context.args loses them)."""

from __future__ import annotations

from telegram import Message


def text_after_command(message: Message) -> str:
    text = message.text or ""
    first_line, _, rest = text.partition("\n")
    _, _, after_command = first_line.partition(" ")
    return "\n".join(part for part in (after_command.strip(), rest) if part).strip()
