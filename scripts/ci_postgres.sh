#!/usr/bin/env bash
# Source this file, then `start_postgres` runs a throwaway PostgreSQL on loopback and exports
# DATABASE_URL for it; `stop_postgres` stops it and removes its data directory.
# Installs Debian's postgresql package when no server binaries are present.

start_postgres() {
    if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
        # No server binaries: name a path that cannot exist so the package is installed.
        scripts/ensure_debian_packages.sh /nonexistent/initdb:postgresql
    fi
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    PG_DATA=$(mktemp -d /tmp/fleet-ci-pg.XXXXXX)
    local as=()
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres "$PG_DATA"
        as=(runuser -u postgres --)
    fi
    "${as[@]}" "$PG_BIN/initdb" -D "$PG_DATA/data" -A trust -U postgres --no-sync -E UTF8 >/dev/null
    # Durability is pointless for a test cluster; these make it much faster.
    "${as[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA/data" -l "$PG_DATA/server.log" -w -s start -o \
        "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    "${as[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres fleet
    export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/fleet"
    echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
}

stop_postgres() {
    [ -n "${PG_DATA:-}" ] || return 0
    local as=()
    [ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
    "${as[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA/data" -m fast -w -s stop || true
    rm -rf "$PG_DATA"
    PG_DATA=
}
