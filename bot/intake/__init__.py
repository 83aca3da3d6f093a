"""The newsroom's intake: news feeds read on a schedule, their items proposed as drafts."""
