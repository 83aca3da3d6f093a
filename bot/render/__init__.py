"""Rendering: everything the bot says, as Telegram HTML.

One module per audience or message family (incident cards and lists, alerts and
corrections, digests, the newsroom's previews, subscription menus, tension,
statistics), all built on `telegram_html`, which parses Telegram's HTML the way
the Bot API does and splits long messages at its limits. A new kind of message
gets its renderer here; handlers and the delivery engine only call these.
"""
