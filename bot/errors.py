"""The one type of error that is an answer, not a bug.

A `UserError` means: the user asked for something the bot refuses, and its text (plain,
one or a few sentences) says why and what would work. The error handler answers every
`UserError` with that text, whatever its subclass, and treats anything else as a bug:
logged with its traceback, the user told only that it failed. A new kind of refusal
therefore needs only to derive from `UserError`.

Refusals that were `ValueError`s before keep that base too, so code that catches a bad
value still catches them.
"""

from __future__ import annotations


class UserError(Exception):
    """The user asked for something the bot refuses; str(error) says why, in plain text."""
