#!/bin/sh
# A streaming replica of PRIMARY_HOST: on a new volume, copy the primary with pg_basebackup -R
# (it writes standby.signal and how to reach the primary), retrying until the primary answers;
# then run the server the arguments name. A replica the primary cannot reach still serves
# what it has; the service sends it only reads it has replayed far enough for.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup -h "$PRIMARY_HOST" \
        -p "${PRIMARY_PORT:-5432}" -U "${REPLICATION_USER:-replicator}" -D "$PGDATA" \
        -R -X stream --checkpoint=fast; do
        echo "replica: waiting for the primary at $PRIMARY_HOST" >&2
        find "$PGDATA" -mindepth 1 -delete
        sleep 2
    done
    chmod 700 "$PGDATA"
fi
exec "$@"
