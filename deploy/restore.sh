#!/usr/bin/env bash
# Restore a deploy/backup.sh file into an EMPTY PostgreSQL database with pg_restore.
#
#   createdb flowscope_restored      # or any empty database
#   DATABASE_URL=postgres://user:password@host:5432/flowscope_restored deploy/restore.sh FILE
#
# Everything (schema, every partition and row, the migration history) is restored in one
# transaction: on any error nothing is left half-restored. The database must be empty — the
# script refuses (exit 3) when it already has tables in the public schema, so a mistyped URL
# never overwrites a live database. Then ANALYZE, so the planner has statistics at once.
# Point the flowscope processes at the restored database; they start on it as on any other
# (migrations are already applied, partitions ahead are created as usual).
# Exit status: 0 done, 2 usage or unreadable FILE, 3 database not empty, other: pg_restore's.
set -euo pipefail

if [ "$#" -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
file="$1"
if [ -z "${DATABASE_URL:-}" ]; then
  echo "restore: DATABASE_URL is not set (postgres://user:password@host:5432/database)" >&2
  exit 2
fi
if [ ! -r "$file" ] || ! pg_restore --list "$file" >/dev/null 2>&1; then
  echo "restore: $file is not a readable pg_dump custom-format file (made by deploy/backup.sh)" >&2
  exit 2
fi

tables="$(psql --no-psqlrc --quiet --tuples-only --no-align --dbname="$DATABASE_URL" \
  --command="SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public'")"
if [ "$tables" != "0" ]; then
  echo "restore: the target database is not empty ($tables tables in public); restore into a new database" >&2
  exit 3
fi

pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$DATABASE_URL" "$file"
psql --no-psqlrc --quiet --dbname="$DATABASE_URL" --command="ANALYZE" >/dev/null
echo "restore: $file restored"
