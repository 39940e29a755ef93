#!/bin/sh
# Run once by the postgres image on a new data volume (/docker-entrypoint-initdb.d): the login role the
# archive connects as. It owns nothing; `archive init` (as the owner, ARCHIVE_MIGRATION_DATABASE_URL)
# grants it its rights after every migration: no UPDATE, DELETE, TRUNCATE, ALTER or DROP on audit_event.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE archive_app LOGIN PASSWORD '${ARCHIVE_APP_DB_PASSWORD:?set ARCHIVE_APP_DB_PASSWORD}';
SQL
