#!/bin/sh
# PgBouncer in transaction pooling mode in front of one PostgreSQL, configured from the
# environment: POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD (clients log in
# with these, by SCRAM; PgBouncer logs in to PostgreSQL with the same), PGBOUNCER_PORT,
# PGBOUNCER_POOL_SIZE (server connections per database and user), PGBOUNCER_MAX_CLIENT_CONN.
set -eu
directory="${PGBOUNCER_DIR:-/tmp/pgbouncer}"
mkdir -p "$directory"
# userlist.txt quotes with double quotes, doubled inside a value.
quoted() { printf '"%s"' "$(printf '%s' "$1" | sed 's/"/""/g')"; }
umask 077
printf '%s %s\n' "$(quoted "$POSTGRES_USER")" "$(quoted "$POSTGRES_PASSWORD")" >"$directory/userlist.txt"
cat >"$directory/pgbouncer.ini" <<INI
[databases]
* = host=${POSTGRES_HOST} port=${POSTGRES_PORT:-5432}

[pgbouncer]
listen_addr = ${PGBOUNCER_LISTEN_ADDR:-0.0.0.0}
listen_port = ${PGBOUNCER_PORT:-6432}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $directory/userlist.txt
pool_mode = transaction
default_pool_size = ${PGBOUNCER_POOL_SIZE:-20}
max_client_conn = ${PGBOUNCER_MAX_CLIENT_CONN:-1000}
ignore_startup_parameters = extra_float_digits
INI
exec pgbouncer "$directory/pgbouncer.ini"
