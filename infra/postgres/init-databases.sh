#!/bin/sh
# One database per service (DESIGN.md: no service reads another's tables).
# Runs once, when the postgres volume is first initialised.
set -eu
for db in shouhu_gateway shouhu_registry shouhu_pairing shouhu_visits shouhu_health shouhu_notifications shouhu_reporting; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -c "CREATE DATABASE $db"
done
