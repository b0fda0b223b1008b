#!/usr/bin/env bash
# Back up flowscope's PostgreSQL database with pg_dump (custom format: compressed, restorable
# table by table, parallel-capable). The replacement for the old system's backup.sh.
#
#   DATABASE_URL=postgres://user:password@host:5432/flowscope deploy/backup.sh [FILE]
#
# FILE defaults to $FLOWSCOPE_BACKUP_DIR (default ./backups)/flowscope-<UTC time>.dump. The
# dump is one consistent snapshot (spans being written meanwhile are either in it or not, never
# half), of every table and partition, the schema and the migration history; owners and grants
# are left out so it restores under any role. It is written to FILE.partial, checked with
# pg_restore --list, then renamed: FILE exists only when the backup is complete. Prints FILE.
# Exit status: 0 done, 2 usage, other: pg_dump's failure (nothing left behind).
#
# Redis is not backed up: it holds queues, rate-limit counters and live events only, which the
# processes rebuild; PostgreSQL is the system of record. Run from cron or a Kubernetes CronJob
# with the pg_dump of the server's major version or newer; copy the file off the machine.
set -euo pipefail

if [ "$#" -gt 1 ] || [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
if [ -z "${DATABASE_URL:-}" ]; then
  echo "backup: DATABASE_URL is not set (postgres://user:password@host:5432/database)" >&2
  exit 2
fi

out="${1:-${FLOWSCOPE_BACKUP_DIR:-./backups}/flowscope-$(date -u +%Y%m%dT%H%M%SZ).dump}"
mkdir -p "$(dirname "$out")"
partial="$out.partial"
trap 'rm -f "$partial"' EXIT

# The URL goes to pg_dump as a connection string, never on a log line.
pg_dump --format=custom --compress=6 --no-owner --no-privileges --dbname="$DATABASE_URL" --file="$partial"
pg_restore --list "$partial" >/dev/null
mv "$partial" "$out"
trap - EXIT
echo "$out"
