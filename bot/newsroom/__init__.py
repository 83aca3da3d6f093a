"""The newsroom: how incidents enter and change the record.

Who may change it (`admins`), the `key: value` form and the guided questions
that fill it (`forms`, `guided_post`), the proposal read from a pasted report
(`extractor`, `extracted_form`), publishing, edits and retractions with their
audit entries (`changes`), the channel mirror (`channel`) and bulk import and
export (`transfer`).
"""
