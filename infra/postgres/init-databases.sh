#!/bin/sh
# One database per service (DESIGN.md: no service reads another's tables), each owned
# by the service's own login role: a compromised service reaches its own data only.
# Passwords come from the environment (docker-compose passes them from .env).
# Runs once, when the postgres volume is first initialised.
set -eu
for svc in gateway registry pairing visits health notifications reporting activities; do
  var=$(echo "${svc}_DB_PASSWORD" | tr '[:lower:]' '[:upper:]')
  eval "password=\${$var:?$var is not set}"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v role="shouhu_$svc" -v db="shouhu_$svc" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"role";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
SQL
done

# The gateway runs as a second role that may only read and append the audit trail (the
# gateway, connected as the owner, grants exactly that at every start): the append-only
# rule then binds the process that serves requests.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v password="${GATEWAY_APP_DB_PASSWORD:?GATEWAY_APP_DB_PASSWORD is not set}" <<'SQL'
CREATE ROLE shouhu_gateway_app LOGIN PASSWORD :'password';
GRANT CONNECT ON DATABASE shouhu_gateway TO shouhu_gateway_app;
SQL
