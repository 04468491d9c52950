#!/bin/sh
# Scheduled backups of the cloud's database: pg_dump custom format (what `npm run restore -- cloud FILE`
# and pg_restore read) every BACKUP_INTERVAL_HOURS into BACKUP_DIR, keeping the BACKUP_KEEP newest.
# Connection from libpq's environment (PGHOST, PGUSER, PGPASSWORD or PGPASSFILE, PGDATABASE).
set -eu
dir=${BACKUP_DIR:-/backups}
interval=$(( ${BACKUP_INTERVAL_HOURS:-24} * 3600 ))
keep=${BACKUP_KEEP:-14}
while true; do
  file="$dir/cloud-$(date -u +%Y%m%dT%H%M%SZ).dump"
  if pg_dump --format=custom --no-owner --file="$file.partial" && mv "$file.partial" "$file"; then
    echo "backup written: $file"
    ls -1 "$dir"/cloud-*.dump | sort | head -n "-$keep" | xargs -r rm -f
  else
    rm -f "$file.partial"
    echo "backup FAILED" >&2
  fi
  [ "${BACKUP_ONCE:-0}" = 1 ] && exit 0
  sleep "$interval"
done
