# shellcheck shell=bash
# PostgreSQL 15 for the shared-store tests (issue: several scanner hosts):
# a private cluster under $STACK/pg (data), owned by the system user
# postgres, listening on 127.0.0.1:(5432 + offset) and a socket in
# $STACK/pgrun; database "qscan", role "qscan" with password "qscan".
# Sourced by scripts/teststack (see the plug-in contract there).

PG_BIN=/usr/lib/postgresql/15/bin
PG_PORT=$((5432 + PORTS))
PG_DATA=$STACK/pg
PG_SOCK=$STACK/pgrun

postgresql_packages() { echo postgresql-15; }

postgresql_pg() { runuser -u postgres -- "$@"; }

postgresql_prepare() {
	install -d -o postgres -g postgres -m 0700 "$PG_DATA"
	install -d -o postgres -g postgres -m 0775 "$PG_SOCK"
	if [[ ! -s $PG_DATA/PG_VERSION ]]; then
		local pw=$PG_SOCK/.pw
		echo postgres >"$pw" && chown postgres "$pw" && chmod 600 "$pw"
		postgresql_pg "$PG_BIN/initdb" -D "$PG_DATA" -A scram-sha-256 --pwfile="$pw" -U postgres \
			-E UTF8 --locale=C.UTF-8 >"$RUN/postgresql-initdb.log" 2>&1 ||
			{ rm -f "$pw"; cat "$RUN/postgresql-initdb.log" >&2; die "initdb failed"; }
		rm -f "$pw"
		# The tests' settings: durable as in production (fsync on), small.
		cat >>"$PG_DATA/postgresql.conf" <<-CONF
			listen_addresses = '127.0.0.1'
			max_connections = 60
			shared_buffers = 64MB
			unix_socket_directories = '$PG_SOCK'
		CONF
	fi
	sed -i "s|^unix_socket_directories = .*|unix_socket_directories = '$PG_SOCK'|" "$PG_DATA/postgresql.conf"
}

postgresql_launch() {
	touch "$RUN/postgresql.out" && chown postgres "$RUN/postgresql.out"
	setsid runuser -u postgres -- "$PG_BIN/postgres" -D "$PG_DATA" -p "$PG_PORT" \
		</dev/null >>"$RUN/postgresql.out" 2>&1 9>&- &
	echo $! >"$RUN/postgresql.pid"
	# The role and database, once the server answers (idempotent).
	local i
	for ((i = 0; i < 60; i++)); do
		postgresql_answers && break
		sleep 0.5
	done
	PGPASSWORD=postgres "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -v ON_ERROR_STOP=0 >>"$RUN/postgresql.out" 2>&1 <<-SQL
		DO \$\$ BEGIN
		  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'qscan') THEN
		    CREATE ROLE qscan LOGIN PASSWORD 'qscan' CREATEDB;
		  END IF;
		END \$\$;
		SELECT 'CREATE DATABASE qscan OWNER qscan' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'qscan')\gexec
	SQL
}

postgresql_answers() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2; }

# The postmaster's pid file is the cluster's own; runuser's pid (in
# postgresql.pid) goes when postgres does.
postgresql_stop() {
	if [[ -s $PG_DATA/postmaster.pid ]]; then
		postgresql_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1 || true
		log "postgresql stopped"
	fi
	rm -f "$RUN/postgresql.pid"
}

postgresql_pidname() { echo runuser; }
postgresql_timeout() { echo 60; }
postgresql_logfiles() { echo "$RUN/postgresql.out"; }

postgresql_env() {
	echo "QSCAN_PG_DSN=postgres://qscan:qscan@127.0.0.1:$PG_PORT/qscan?sslmode=disable"
	echo "QSCAN_PG_ADMIN_DSN=postgres://postgres:postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
	echo "QSCAN_PG_DATA=$PG_DATA"
}
