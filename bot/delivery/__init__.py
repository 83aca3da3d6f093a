"""Getting messages to subscribers: the outbox, its pacing, and what each item says."""
