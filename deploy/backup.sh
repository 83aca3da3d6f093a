#!/bin/sh
# incident-bot-backup DIR: back up the live database to DIR/incident-bot-YYYY-MM-DD.sqlite3
# and keep the newest $KEEP_DAILY (default 14) of those daily files. Run daily by
# incident-bot-backup.timer; a second run on the same day replaces that day's copy.
set -eu

dir=${1:?usage: incident-bot-backup DIR}
keep=${KEEP_DAILY:-14}
bot=${INCIDENT_BOT:-/opt/incident-bot/venv/bin/incident-bot}
config=${INCIDENT_BOT_CONFIG:-/etc/incident-bot/config.toml}

case $keep in
    '' | *[!0-9]* | 0) echo "incident-bot-backup: KEEP_DAILY must be a whole number above 0" >&2; exit 2 ;;
esac

"$bot" --config "$config" db backup --force "$dir/incident-bot-$(date +%F).sqlite3"

# The dated names sort oldest first; delete all but the newest $keep.
count=0
for old in $(ls -1 "$dir" | grep -E '^incident-bot-[0-9]{4}-[0-9]{2}-[0-9]{2}\.sqlite3$' | sort -r); do
    count=$((count + 1))
    if [ "$count" -gt "$keep" ]; then
        rm -f -- "$dir/$old"
        echo "removed $dir/$old (keeping the newest $keep)"
    fi
done
