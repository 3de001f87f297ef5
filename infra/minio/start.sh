#!/bin/sh
# MinIO for Shouhu's attachments: starts the server, then (idempotently) creates the bucket
# and the services' own access key, allowed that bucket only — the root credentials never
# leave this container. Then waits on the server, so the container lives as long as it does.
set -eu
minio server /data --console-address ":9001" &
server=$!
until mc alias set local http://127.0.0.1:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null 2>&1; do sleep 1; done
mc mb --ignore-existing "local/$S3_BUCKET"
mc admin policy create local shouhu-attachments /etc/shouhu/attachments-policy.json >/dev/null
mc admin user add local "$S3_ACCESS_KEY" "$S3_SECRET_KEY"
mc admin policy attach local shouhu-attachments --user "$S3_ACCESS_KEY" >/dev/null 2>&1 || true
touch /tmp/initialised
wait "$server"
