"""Subscriptions: which chats hear about which places, how soon and how often.

`service` holds a chat's choices (places, severity, digest schedule, time zone,
quiet hours) and parses what users type to change them; `schedule` does the
local-time arithmetic across DST; `digests` decides who is due and puts their
digest in the outbox.
"""
