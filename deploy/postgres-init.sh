#!/bin/sh
# Run by the postgres image on its first start (/docker-entrypoint-initdb.d): the two roles.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner_password="$GAOXIN_OWNER_PASSWORD" -v app_password="$GAOXIN_APP_PASSWORD" \
  -f /gaoxin/postgres-roles.sql
