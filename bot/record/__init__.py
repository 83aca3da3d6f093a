"""Reading the record: what the read-side commands ask of storage.

Incidents for /latest, /incident and /search (`incidents`), troop figures for
/troops (`troops`), delivery figures for /stats (`stats`) and the bundled
sample data set (`sample`).
"""
