# Throwaway PostgreSQL clusters for the tests and the demo. Source this file, then call
# pg_cluster_start [extra postgres -c options...] and pg_cluster_stop. The cluster lives in a
# temporary folder, listens on a Unix socket only, and trusts local connections.
# As root (CI), the server runs as the postgres user, since initdb refuses root.
# PG_CONFIG picks the PostgreSQL installation (default: the pg_config on PATH).
# Sourcing this file runs nothing: the scripts install PostgreSQL first, and only then does
# pg_use locate it.

# What a server log says when a backend crashed (an extended regular expression, for grep -E
# and Python's re alike): test/run-tests, test/citus/run and test_hostile.py look for it.
export PG_CRASH_PATTERN='terminated by signal|was terminated|PANIC|server process .* exited with exit code [^0]'

# Points PG_BINDIR at the installation PG_CONFIG names and puts its bin first on PATH, so that
# psql, createdb, pg_dump and pgbench are the server's own version. Idempotent.
pg_use() {
    local config=${PG_CONFIG:-pg_config}
    PG_BINDIR=$("$config" --bindir) || { echo "pg_use: $config not found: is PostgreSQL installed?" >&2; return 1; }
    PG_SERVER_MAJOR=$("$config" --version | sed -n 's/^PostgreSQL \([0-9]*\).*/\1/p')
    # PATH as it was before the first call, with this version's bin in front
    _PG_BASE_PATH=${_PG_BASE_PATH:-$PATH}
    PATH=$PG_BINDIR:$_PG_BASE_PATH
    export PG_BINDIR PG_SERVER_MAJOR PATH _PG_BASE_PATH
}

# Runs a command as the cluster's owner (postgres when the caller is root), from a folder that
# user can enter.
_pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

pg_cluster_start() {
    pg_use || return 1
    PG_CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/bytea_blur_pg.XXXXXX")
    chmod 755 "$PG_CLUSTER_DIR"
    [ "$(id -u)" = 0 ] && chown postgres: "$PG_CLUSTER_DIR"
    _pg_as_owner "$PG_BINDIR/initdb" -D "$PG_CLUSTER_DIR/data" -U postgres --auth=trust -E UTF8 \
        --locale=C >"$PG_CLUSTER_DIR/initdb.log" 2>&1 || { cat "$PG_CLUSTER_DIR/initdb.log"; return 1; }
    # A random port below Linux's ephemeral range (32768 up), where the machine's own outgoing
    # connections take theirs. A node that listens on 127.0.0.1 (pg_node_start) may still find
    # its port taken by another process: a server that does not start shows its log (on
    # stderr: pg_node_start's caller reads stdout) and is tried twice more on other ports.
    local port opts o attempt
    for attempt in 1 2 3; do
        port=$((20000 + RANDOM % 12000))
        opts="-p $port -k $PG_CLUSTER_DIR -c listen_addresses= -c fsync=off"
        for o in "$@"; do opts="$opts -c $o"; done
        _pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PG_CLUSTER_DIR/data" -l "$PG_CLUSTER_DIR/server.log" \
            -o "$opts" -w -t 60 start >/dev/null && break
        sed "s/^/pg_cluster_start: port $port: /" "$PG_CLUSTER_DIR/server.log" >&2
        [ "$attempt" -lt 3 ] || return 1
        rm -f "$PG_CLUSTER_DIR/server.log"
    done
    export PGHOST=$PG_CLUSTER_DIR PGPORT=$port PGUSER=postgres PGDATABASE=postgres
    export PG_SERVER_LOG=$PG_CLUSTER_DIR/server.log PG_CLUSTER_DIR
}

pg_cluster_stop() {
    [ -n "${PG_CLUSTER_DIR:-}" ] || return 0
    pg_use || return 1
    _pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PG_CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$PG_CLUSTER_DIR"
    unset PG_CLUSTER_DIR
}

# Makes a hot standby of the running cluster with pg_basebackup -R (streaming replication from
# it) and starts it on its own port; prints "SOCKET_DIR PORT". pg_standby_stop SOCKET_DIR stops
# and removes it.
pg_standby_start() {
    pg_use || return 1
    local dir port
    dir=$(mktemp -d "${TMPDIR:-/tmp}/bytea_blur_standby.XXXXXX")
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    _pg_as_owner "$PG_BINDIR/pg_basebackup" -h "$PGHOST" -p "$PGPORT" -U postgres -D "$dir/data" -R \
        -X stream -c fast >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; return 1; }
    port=$((20000 + RANDOM % 12000))
    _pg_as_owner "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
        -o "-p $port -k $dir -c listen_addresses= -c fsync=off -c hot_standby=on" -w -t 60 start >/dev/null ||
        { cat "$dir/server.log" >&2; return 1; }
    echo "$dir $port"
}

pg_standby_stop() { # SOCKET_DIR
    [ -d "${1:-}/data" ] || return 0
    pg_use || return 1
    _pg_as_owner "$PG_BINDIR/pg_ctl" -D "$1/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$1"
}

# A cluster that other clusters reach over TCP on 127.0.0.1 (a Citus node), started in a
# subshell so that the caller's cluster variables stay as they are. Takes the same extra -c
# options as pg_cluster_start; prints "DIR PORT". Stop it with pg_node_stop DIR.
pg_node_start() {
    (pg_cluster_start listen_addresses=127.0.0.1 "$@" >/dev/null && echo "$PG_CLUSTER_DIR $PGPORT")
}

pg_node_stop() { # DIR
    (PG_CLUSTER_DIR=$1 && pg_cluster_stop)
}
