#!/bin/sh
# deploy/install.sh WHEEL: install, or upgrade, incident-bot as a systemd service on
# Debian 12, from a wheel built as deploy/README.md says. Run as root from the source's
# deploy/ folder or anywhere (it finds its files beside itself). Running it again
# upgrades the package and the units and keeps /etc/incident-bot and the database.
set -eu

wheel=${1:?usage: sudo sh deploy/install.sh dist/incident_bot-VERSION-py3-none-any.whl}
here=$(cd "$(dirname "$0")" && pwd)
bot=/opt/incident-bot/venv/bin/incident-bot
config=/etc/incident-bot/config.toml

if [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run it as root (sudo sh deploy/install.sh $wheel)" >&2
    exit 2
fi
if [ ! -f "$wheel" ]; then
    echo "install.sh: $wheel: no such file; build the wheel first (deploy/README.md, step 1)" >&2
    exit 2
fi

echo "== packages: python3, venv, sqlite3"
apt-get install -y --no-install-recommends python3 python3-venv sqlite3 >/dev/null

echo "== user incident-bot, /var/lib/incident-bot, /var/backups/incident-bot, /etc/incident-bot"
if ! getent passwd incident-bot >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/incident-bot --no-create-home \
        --shell /usr/sbin/nologin incident-bot
fi
install -d -o incident-bot -g incident-bot -m 0750 /var/lib/incident-bot /var/backups/incident-bot
install -d -o root -g incident-bot -m 0750 /etc/incident-bot
if [ ! -e "$config" ]; then
    install -o root -g incident-bot -m 0640 "$here/config.toml" "$config"
fi
if [ ! -e /etc/incident-bot/incident-bot.env ]; then
    install -o root -g root -m 0600 "$here/incident-bot.env" /etc/incident-bot/incident-bot.env
fi

was_running=no
if systemctl is-active --quiet incident-bot; then
    was_running=yes
    echo "== stopping the running bot for the upgrade"
    systemctl stop incident-bot
fi

echo "== the package, in /opt/incident-bot/venv"
if [ ! -x /opt/incident-bot/venv/bin/python ]; then
    # Debian's own Python (apt's python3), not whichever python3 comes first on root's PATH:
    # the venv links to its interpreter, which the incident-bot user must be able to run.
    /usr/bin/python3 -m venv /opt/incident-bot/venv
fi
/opt/incident-bot/venv/bin/pip install --quiet --upgrade "$wheel"
install -d -m 0755 /opt/incident-bot/bin
install -m 0755 "$here/backup.sh" /opt/incident-bot/bin/incident-bot-backup

echo "== the configuration and the database"
cd /
runuser -u incident-bot -- "$bot" --config "$config" config check >/dev/null
runuser -u incident-bot -- "$bot" --config "$config" db upgrade

echo "== systemd units"
install -m 0644 "$here/incident-bot.service" "$here/incident-bot-backup.service" \
    "$here/incident-bot-backup.timer" /etc/systemd/system/
systemctl daemon-reload
systemctl enable --now incident-bot-backup.timer

if [ "$was_running" = yes ]; then
    systemctl start incident-bot
    echo "== done: $("$bot" --version) is running again (journalctl -u incident-bot -f)"
elif grep -q '^TELEGRAM_BOT_TOKEN=.' /etc/incident-bot/incident-bot.env; then
    systemctl enable --now incident-bot
    echo "== done: $("$bot" --version) is running (journalctl -u incident-bot -f)"
else
    echo "== installed $("$bot" --version). Next:"
    echo "   1. put the token in /etc/incident-bot/incident-bot.env (TELEGRAM_BOT_TOKEN=...)"
    echo "   2. put your numeric user id in /etc/incident-bot/config.toml (telegram.admins)"
    echo "   3. systemctl enable --now incident-bot"
fi
