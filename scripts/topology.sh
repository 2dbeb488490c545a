#!/usr/bin/env bash
# scripts/topology.sh - run a local MariaDB replication topology for Switchyard
# development and integration tests.
#
#   scripts/topology.sh up|down|status|env [--dir DIR] [--slices N] [--replicas R]
#                                          [--base-port P] [--keep]
#
# Starts N slices, each with one primary and R replicas, as plain background
# `mariadbd` processes (no systemd, no service scripts), all bound to
# 127.0.0.1. Slice i (s0, s1, ...) has its primary on port BASE+10*i and its
# replicas on BASE+10*i+1 .. BASE+10*i+R.
#
# Defaults: --dir <repo>/.topology, --slices 3, --replicas 1, --base-port 3310.
# The environment variables SWITCHYARD_TOPO_DIR, SWITCHYARD_TOPO_SLICES,
# SWITCHYARD_TOPO_REPLICAS and SWITCHYARD_TOPO_BASE_PORT set them too; flags
# win. `up` records the parameters in DIR/topology.env, so `down`, `status`
# and `env` only need --dir.
#
# Accounts on every node (identical on all nodes, never written to a binlog):
#   root  / root   root@'%', root@'127.0.0.1', root@'::1' (root@localhost over
#                  the unix socket has no password; this script uses it)
#   repl  / repl   replication (REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR)
#   proxy / proxy  the proxy's backend user: ALL PRIVILEGES *except*
#                  READ_ONLY ADMIN, so read_only=ON on replicas stops it (1290).
#
# Per node files: DIR/<port>/{data/,mysqld.sock,mysqld.pid,error.log}.
set -euo pipefail

PROG=topology
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)

ROOT_USER=root
ROOT_PASSWORD=root
REPL_USER=repl
REPL_PASSWORD=repl
BACKEND_USER=proxy
BACKEND_PASSWORD=proxy

START_TIMEOUT=${SWITCHYARD_TOPO_START_TIMEOUT:-90} # seconds, per `up`
REPL_TIMEOUT=10                                    # seconds
STOP_TIMEOUT=10                                    # seconds before SIGKILL

# Small-footprint, fast settings shared by every node (and by the template
# install, so InnoDB files are created with the same sizes). The character set
# mirrors Debian's /etc/mysql/mariadb.conf.d/50-server.cnf, which --no-defaults
# skips (the compiled-in default would be latin1).
SERVER_OPTS=(
	--innodb-buffer-pool-size=64M
	--innodb-log-file-size=32M
	--innodb-log-buffer-size=4M
	--innodb-flush-log-at-trx-commit=2
	# Several test topologies run at once; io_uring/native AIO instances can
	# exhaust locked-memory and AIO limits (install failures seen here).
	--innodb-use-native-aio=0
	--aria-pagecache-buffer-size=8M
	--key-buffer-size=8M
	--performance-schema=OFF
	--character-set-server=utf8mb4
	--collation-server=utf8mb4_general_ci
)

usage() {
	cat <<EOF
usage: scripts/topology.sh up|down|status|env [options]

commands:
  up       start (or complete) the topology; idempotent
  down     stop every node and remove DIR (keep it with --keep)
  status   one line per node; exits non-zero if any node is down
  env      print 'export SWITCHYARD_TOPOLOGY=DIR/topology.env'

options:
  --dir DIR         topology directory (default: <repo>/.topology)
  --slices N        number of slices (default 3)
  --replicas R      replicas per slice, 0..9 (default 1)
  --base-port P     port of s0's primary (default 3310)
  --keep            with down: keep DIR (data, logs)
EOF
}

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}

now_ms() { date +%s%3N; }

find_bin() {
	local n d
	for n in "$@"; do
		if command -v "$n" >/dev/null 2>&1; then
			command -v "$n"
			return 0
		fi
		for d in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin; do
			if [ -x "$d/$n" ]; then
				echo "$d/$n"
				return 0
			fi
		done
	done
	return 1
}

need_tools() {
	MARIADBD=$(find_bin mariadbd) || die "mariadbd not found (apt-get install mariadb-server)"
	MARIADB=$(find_bin mariadb) || die "mariadb client not found (apt-get install mariadb-client)"
	INSTALL_DB=$(find_bin mariadb-install-db) || die "mariadb-install-db not found (apt-get install mariadb-server)"
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

# ---------------------------------------------------------------- arguments

CMD=${1:-}
if [ $# -gt 0 ]; then shift; fi
case $CMD in
up | down | status | env) ;;
-h | --help | help)
	usage
	exit 0
	;;
"")
	usage >&2
	exit 2
	;;
*)
	usage >&2
	die "unknown command: $CMD"
	;;
esac

opt_dir=${SWITCHYARD_TOPO_DIR:-}
opt_slices=${SWITCHYARD_TOPO_SLICES:-}
opt_replicas=${SWITCHYARD_TOPO_REPLICAS:-}
opt_base=${SWITCHYARD_TOPO_BASE_PORT:-}
KEEP=0
while [ $# -gt 0 ]; do
	case $1 in
	--dir | --slices | --replicas | --base-port)
		[ $# -ge 2 ] || die "$1 needs a value"
		case $1 in
		--dir) opt_dir=$2 ;;
		--slices) opt_slices=$2 ;;
		--replicas) opt_replicas=$2 ;;
		--base-port) opt_base=$2 ;;
		esac
		shift 2
		;;
	--dir=*) opt_dir=${1#*=} && shift ;;
	--slices=*) opt_slices=${1#*=} && shift ;;
	--replicas=*) opt_replicas=${1#*=} && shift ;;
	--base-port=*) opt_base=${1#*=} && shift ;;
	--keep) KEEP=1 && shift ;;
	-h | --help)
		usage
		exit 0
		;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
done

DIR=${opt_dir:-$REPO_ROOT/.topology}
case $DIR in
/*) ;;
*) DIR=$PWD/$DIR ;;
esac
DIR=$(realpath -m -- "$DIR")
[ "$DIR" != / ] || die "refusing to use / as topology directory"
ENV_FILE=$DIR/topology.env

# Values recorded by a previous `up` (parsed, never sourced).
saved_slices="" saved_replicas="" saved_base=""
if [ -f "$ENV_FILE" ]; then
	while IFS='=' read -r key value; do
		case $key in
		SLICES) saved_slices=$value ;;
		REPLICAS) saved_replicas=$value ;;
		BASE_PORT) saved_base=$value ;;
		esac
	done <"$ENV_FILE"
fi

resolve() { # name explicit saved default
	if [ "$CMD" != up ] && [ -n "$3" ]; then
		echo "$3" # down/status/env: the recorded topology is the truth
		return
	fi
	if [ -n "$2" ] && [ -n "$3" ] && [ "$2" != "$3" ]; then
		die "topology in $DIR was created with $1=$3 (asked for $2); run 'scripts/topology.sh down --dir $DIR' first"
	fi
	if [ -n "$2" ]; then echo "$2"; elif [ -n "$3" ]; then echo "$3"; else echo "$4"; fi
}
SLICES=$(resolve slices "$opt_slices" "$saved_slices" 3)
REPLICAS=$(resolve replicas "$opt_replicas" "$saved_replicas" 1)
BASE_PORT=$(resolve base-port "$opt_base" "$saved_base" 3310)

if ! is_uint "$SLICES" || [ "$SLICES" -lt 1 ] || [ "$SLICES" -gt 100 ]; then
	die "--slices must be 1..100, got '$SLICES'"
fi
if ! is_uint "$REPLICAS" || [ "$REPLICAS" -gt 9 ]; then
	die "--replicas must be 0..9, got '$REPLICAS'"
fi
if ! is_uint "$BASE_PORT" || [ "$BASE_PORT" -lt 1024 ] ||
	[ $((BASE_PORT + 10 * (SLICES - 1) + REPLICAS)) -gt 65535 ]; then
	die "--base-port must be >= 1024 and leave room for all nodes, got '$BASE_PORT'"
fi

# ---------------------------------------------------------------- nodes

NODE_SLICE=() NODE_ROLE=() NODE_PORT=() NODE_IDX=()
for ((i = 0; i < SLICES; i++)); do
	p=$((BASE_PORT + 10 * i))
	NODE_SLICE+=("s$i") NODE_ROLE+=(primary) NODE_PORT+=("$p") NODE_IDX+=("$i")
	for ((j = 1; j <= REPLICAS; j++)); do
		NODE_SLICE+=("s$i") NODE_ROLE+=(replica) NODE_PORT+=($((p + j))) NODE_IDX+=("$i")
	done
done
NODES=${#NODE_PORT[@]}

node_dir() { echo "$DIR/$1"; }
node_sock() { echo "$DIR/$1/mysqld.sock"; }
node_pidfile() { echo "$DIR/$1/mysqld.pid"; }
node_errlog() { echo "$DIR/$1/error.log"; }

pid_is_mariadbd() { # pid
	local comm
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
	comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 1
	[ "$comm" = mariadbd ] || [ "$comm" = mysqld ]
}

# Prints the pid of the node's running server, fails if it is not running.
# launch.pid is written by `up` right after spawning the server, before the
# server writes its own pid file, so `down` also finds a node that is still
# starting (e.g. when `up` was interrupted).
node_pid() { # port
	local pid f
	for f in "$(node_pidfile "$1")" "$DIR/$1/launch.pid"; do
		pid=$(cat "$f" 2>/dev/null) || continue
		if pid_is_mariadbd "$pid"; then
			echo "$pid"
			return 0
		fi
	done
	return 1
}

# Runs SQL as root over the node's unix socket (root@localhost has no password).
node_sql() { # port sql [client options...]
	local port=$1 sql=$2
	shift 2
	"$MARIADB" --no-defaults --connect-timeout=5 -S "$(node_sock "$port")" -u"$ROOT_USER" -N -B "$@" -e "$sql"
}

node_answers() { node_sql "$1" "SELECT 1" >/dev/null 2>&1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port_owner() {
	ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -n1 || true
}

tail_log() { # file
	if [ -f "$1" ]; then
		echo "----- last lines of $1 -----" >&2
		tail -n 30 "$1" >&2 || true
		echo "-----" >&2
	else
		echo "(no log file $1)" >&2
	fi
}

# Vertical SHOW SLAVE STATUS output ("Field: value" lines; empty if not a replica).
slave_status() { # port
	node_sql "$1" "SHOW SLAVE STATUS" --column-names -E
}

# Field of vertical SHOW SLAVE STATUS output.
slave_field() { # status-text field
	sed -n "s/^ *$2: *//p" <<<"$1" | head -n1
}

# ---------------------------------------------------------------- template

# One datadir is installed once per topology (mariadb-install-db + the account
# setup in bootstrap mode) and copied for every node: much faster than
# installing each node, and every node starts with identical accounts without
# any binlog events. gtid_binlog_pos is empty everywhere, so replicas can start
# from an empty gtid_slave_pos and nothing conflicts.
accounts_sql() {
	cat <<EOF
-- Drop the root@<hostname> entries: unusable with --skip-name-resolve.
DELETE FROM mysql.global_priv WHERE Host NOT IN ('localhost', '127.0.0.1', '::1', '%');
DELETE FROM mysql.proxies_priv WHERE Host NOT IN ('localhost', '127.0.0.1', '::1', '%');
FLUSH PRIVILEGES;
ALTER USER '$ROOT_USER'@'127.0.0.1' IDENTIFIED BY '$ROOT_PASSWORD';
ALTER USER '$ROOT_USER'@'::1' IDENTIFIED BY '$ROOT_PASSWORD';
CREATE USER '$ROOT_USER'@'%' IDENTIFIED BY '$ROOT_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$ROOT_USER'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$ROOT_USER'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER '$REPL_USER'@'%' IDENTIFIED BY '$REPL_PASSWORD';
CREATE USER '$REPL_USER'@'127.0.0.1' IDENTIFIED BY '$REPL_PASSWORD';
GRANT REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR ON *.* TO '$REPL_USER'@'%';
GRANT REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR ON *.* TO '$REPL_USER'@'127.0.0.1';
-- In MariaDB 10.11 ALL PRIVILEGES includes READ_ONLY ADMIN (bypasses
-- read_only); SUPER alone does not. The proxy must be stopped by read_only.
CREATE USER '$BACKEND_USER'@'%' IDENTIFIED BY '$BACKEND_PASSWORD';
CREATE USER '$BACKEND_USER'@'127.0.0.1' IDENTIFIED BY '$BACKEND_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$BACKEND_USER'@'%';
GRANT ALL PRIVILEGES ON *.* TO '$BACKEND_USER'@'127.0.0.1';
REVOKE READ_ONLY ADMIN ON *.* FROM '$BACKEND_USER'@'%';
REVOKE READ_ONLY ADMIN ON *.* FROM '$BACKEND_USER'@'127.0.0.1';
EOF
}

ensure_template() {
	local t=$DIR/template tmp=$DIR/template.tmp ilog=$DIR/template-install.log
	[ -f "$t/.switchyard-template" ] && return 0
	rm -rf "$t" "$tmp"
	log "installing template datadir"
	local try
	for try in 1 2 3; do
		rm -rf "$tmp"
		"$INSTALL_DB" --no-defaults --datadir="$tmp" --user=root \
			--auth-root-authentication-method=normal --skip-test-db \
			"${SERVER_OPTS[@]}" >"$ilog" 2>&1 && break
		if [ "$try" = 3 ]; then
			grep -iE 'error|fail' "$ilog" | head -20 >&2 || true
			tail_log "$ilog"
			die "mariadb-install-db failed (log: $ilog)"
		fi
		log "mariadb-install-db failed (attempt $try), retrying"
		sleep 1
	done
	if ! accounts_sql | "$MARIADBD" --no-defaults --bootstrap --user=root --datadir="$tmp" \
		"${SERVER_OPTS[@]}" >>"$ilog" 2>&1; then
		tail_log "$ilog"
		die "account setup (mariadbd --bootstrap) failed (log: $ilog)"
	fi
	touch "$tmp/.switchyard-template"
	mv "$tmp" "$t"
}

# ---------------------------------------------------------------- up

write_env() {
	local tmp=$ENV_FILE.tmp
	cat >"$tmp" <<EOF
# Written by scripts/topology.sh up; read by scripts/topology.sh and internal/testtopo.
DIR=$DIR
SLICES=$SLICES
REPLICAS=$REPLICAS
BASE_PORT=$BASE_PORT
HOST=127.0.0.1
ROOT_USER=$ROOT_USER
ROOT_PASSWORD=$ROOT_PASSWORD
BACKEND_USER=$BACKEND_USER
BACKEND_PASSWORD=$BACKEND_PASSWORD
REPL_USER=$REPL_USER
REPL_PASSWORD=$REPL_PASSWORD
EOF
	mv "$tmp" "$ENV_FILE"
}

start_node() { # node-index
	local n=$1 port=${NODE_PORT[$1]} role=${NODE_ROLE[$1]} idx=${NODE_IDX[$1]}
	local d
	d=$(node_dir "$port")
	mkdir -p "$d"
	if [ ! -d "$d/data/mysql" ]; then
		rm -rf "$d/data"
		cp -a "$DIR/template" "$d/data"
		rm -f "$d/data/.switchyard-template"
	fi
	rm -f "$(node_pidfile "$port")" "$(node_sock "$port")" "$d/launch.pid"
	local args=(
		--no-defaults
		--user=root
		--datadir="$d/data"
		--port="$port"
		--socket="$(node_sock "$port")"
		--bind-address=127.0.0.1
		--pid-file="$(node_pidfile "$port")"
		--log-error="$(node_errlog "$port")"
		# server_id: the port, unique on this machine.
		--server-id="$port"
		# gtid_domain_id: one domain per slice (s0 -> 1, s1 -> 2, ...), shared
		# by the primary and all its replicas. After a failover the promoted
		# replica keeps writing in the same domain (its own server_id), so GTID
		# positions of all nodes of a slice stay comparable and the other
		# replicas can be repointed with MASTER_USE_GTID=slave_pos under
		# gtid_strict_mode. Distinct domains per slice make a GTID name the
		# slice that produced it. Never write on a replica (even as root, who
		# has READ_ONLY ADMIN): that creates an out-of-order GTID in the
		# slice's domain and strict mode then stops replication.
		--gtid-domain-id=$((idx + 1))
		--gtid-strict-mode=ON
		--log-bin=mysql-bin
		--relay-log=relay-bin
		--binlog-format=ROW
		--log-slave-updates
		--sync-binlog=0
		--skip-name-resolve
		--max-connections=2000
		--report-host=127.0.0.1
		--report-port="$port"
		"${SERVER_OPTS[@]}"
	)
	if [ "$role" = replica ]; then
		args+=(--read-only)
	fi
	# New session, no controlling terminal, all fds redirected: the server
	# outlives this script and never holds a caller's pipes open.
	setsid "$MARIADBD" "${args[@]}" </dev/null >>"$d/stdout.log" 2>&1 &
	STARTED_PID[n]=$!
	echo "$!" >"$d/launch.pid"
}

wait_started() { # deadline-ms
	local deadline=$1 n port pid pending
	while :; do
		pending=0
		for n in "${!STARTED_PID[@]}"; do
			[ -n "${READY[n]:-}" ] && continue
			port=${NODE_PORT[n]}
			pid=${STARTED_PID[n]}
			# The socket appears when the server is ready: only then pay for a client.
			if [ -S "$(node_sock "$port")" ] && node_answers "$port"; then
				READY[n]=1
				continue
			fi
			if ! kill -0 "$pid" 2>/dev/null; then
				tail_log "$(node_errlog "$port")"
				die "mariadbd for ${NODE_SLICE[n]} ${NODE_ROLE[n]} on port $port exited during startup"
			fi
			pending=1
		done
		[ "$pending" = 0 ] && return 0
		if [ "$(now_ms)" -gt "$deadline" ]; then
			for n in "${!STARTED_PID[@]}"; do
				if [ -z "${READY[n]:-}" ]; then
					tail_log "$(node_errlog "${NODE_PORT[n]}")"
					die "timed out after ${START_TIMEOUT}s waiting for ${NODE_SLICE[n]} ${NODE_ROLE[n]} on port ${NODE_PORT[n]}"
				fi
			done
		fi
		sleep 0.1
	done
}

configure_replica() { # node-index
	local n=$1 port=${NODE_PORT[$1]} pport
	pport=$((BASE_PORT + 10 * NODE_IDX[n]))
	local status
	status=$(slave_status "$port") || die "SHOW SLAVE STATUS failed on port $port"
	if [ -n "$status" ]; then
		return 0 # already configured; the server starts the slave threads itself
	fi
	log "configuring replica ${NODE_SLICE[n]}:$port -> primary :$pport"
	node_sql "$port" "
		SET GLOBAL gtid_slave_pos = '';
		CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$pport,
			MASTER_USER='$REPL_USER', MASTER_PASSWORD='$REPL_PASSWORD',
			MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1;
		SET GLOBAL read_only = ON;
		START SLAVE;" || die "configuring replication on port $port failed"
}

verify_replication() {
	local deadline n port status io sql
	deadline=$(($(now_ms) + REPL_TIMEOUT * 1000))
	for ((n = 0; n < NODES; n++)); do
		[ "${NODE_ROLE[n]}" = replica ] || continue
		port=${NODE_PORT[n]}
		while :; do
			status=$(slave_status "$port" 2>/dev/null) || status=""
			io=$(slave_field "$status" Slave_IO_Running)
			sql=$(slave_field "$status" Slave_SQL_Running)
			[ "$io" = Yes ] && [ "$sql" = Yes ] && break
			if [ "$(now_ms)" -gt "$deadline" ]; then
				echo "$status" >&2
				die "replication on ${NODE_SLICE[n]} replica :$port is not running (IO=$io SQL=$sql): $(slave_field "$status" Last_IO_Error) $(slave_field "$status" Last_SQL_Error)"
			fi
			sleep 0.1
		done
	done
}

# The backend user must not be able to write on a replica (no READ_ONLY ADMIN).
# The probe runs with sql_log_bin=0, so even a misconfigured server would not
# log an event that breaks replication.
verify_read_only() {
	local n port out
	for ((n = 0; n < NODES; n++)); do
		[ "${NODE_ROLE[n]}" = replica ] || continue
		port=${NODE_PORT[n]}
		if out=$("$MARIADB" --no-defaults --connect-timeout=5 -h127.0.0.1 -P"$port" \
			-u"$BACKEND_USER" -p"$BACKEND_PASSWORD" -N -B \
			-e "SET SESSION sql_log_bin = 0; DROP DATABASE IF EXISTS switchyard_readonly_probe" 2>&1); then
			die "user $BACKEND_USER could write on read-only replica :$port (has READ_ONLY ADMIN?)"
		fi
		case $out in
		*"ERROR 1290"*) ;;
		*) die "unexpected error probing read_only on :$port as $BACKEND_USER: $out" ;;
		esac
	done
}

cmd_up() {
	need_tools
	local t0 n port pid
	t0=$(now_ms)
	if [ -d "$DIR" ] && [ ! -f "$ENV_FILE" ] && [ -n "$(ls -A "$DIR")" ]; then
		die "$DIR exists, is not empty and holds no topology.env; refusing to use it"
	fi
	# Sockets live in DIR; unix socket paths are limited to 107 bytes.
	local longest
	longest=$(node_sock "$((BASE_PORT + 10 * (SLICES - 1) + REPLICAS))")
	[ "${#longest}" -le 107 ] || die "directory path too long for unix sockets: $longest"

	local todo=()
	local -a STARTED_PID=() READY=()
	for ((n = 0; n < NODES; n++)); do
		port=${NODE_PORT[n]}
		if pid=$(node_pid "$port"); then
			# Running: nothing to do once it answers (it may still be starting).
			STARTED_PID[n]=$pid
			continue
		fi
		if port_in_use "$port"; then
			die "port $port is already in use by another process ($(port_owner "$port")); pick another --base-port or stop it"
		fi
		todo+=("$n")
	done

	mkdir -p "$DIR"
	write_env
	if [ ${#todo[@]} -gt 0 ]; then
		local need_template=0
		for n in "${todo[@]}"; do
			[ -d "$(node_dir "${NODE_PORT[n]}")/data/mysql" ] || need_template=1
		done
		if [ "$need_template" = 1 ]; then
			ensure_template
		fi
		log "starting ${#todo[@]} node(s)"
		for n in "${todo[@]}"; do
			start_node "$n"
		done
	else
		log "all $NODES nodes already running"
	fi
	wait_started $(($(now_ms) + START_TIMEOUT * 1000))

	for ((n = 0; n < NODES; n++)); do
		[ "${NODE_ROLE[n]}" = replica ] && configure_replica "$n"
	done
	verify_replication
	verify_read_only

	print_status || true
	local t1
	t1=$(now_ms)
	log "up: $NODES node(s) in $DIR ready in $(((t1 - t0) / 1000)).$(printf '%03d' $(((t1 - t0) % 1000)))s"
	log "use: export SWITCHYARD_TOPOLOGY=$ENV_FILE"
}

# ---------------------------------------------------------------- status

print_status() {
	local n port state ro repl status rc=0 gtid
	printf '%-6s %-8s %-6s %-5s %-9s %s\n' SLICE ROLE PORT STATE READ_ONLY REPLICATION
	for ((n = 0; n < NODES; n++)); do
		port=${NODE_PORT[n]}
		state=down ro=- repl=-
		if node_pid "$port" >/dev/null && node_answers "$port"; then
			state=up
			ro=$(node_sql "$port" "SELECT IF(@@read_only, 'ON', 'OFF')" 2>/dev/null) || ro='?'
			if [ "${NODE_ROLE[n]}" = replica ]; then
				status=$(slave_status "$port" 2>/dev/null) || status=""
				if [ -z "$status" ]; then
					repl="not configured"
				else
					gtid=$(node_sql "$port" "SELECT @@gtid_slave_pos" 2>/dev/null) || gtid='?'
					repl="io=$(slave_field "$status" Slave_IO_Running) sql=$(slave_field "$status" Slave_SQL_Running) behind=$(slave_field "$status" Seconds_Behind_Master) gtid_slave_pos=${gtid:-<empty>}"
				fi
			else
				gtid=$(node_sql "$port" "SELECT @@gtid_binlog_pos" 2>/dev/null) || gtid='?'
				repl="gtid_binlog_pos=${gtid:-<empty>}"
			fi
		else
			rc=1
		fi
		printf '%-6s %-8s %-6s %-5s %-9s %s\n' "${NODE_SLICE[n]}" "${NODE_ROLE[n]}" "$port" "$state" "$ro" "$repl"
	done
	return $rc
}

cmd_status() {
	[ -f "$ENV_FILE" ] || {
		log "no topology in $DIR (no topology.env)"
		exit 1
	}
	MARIADB=$(find_bin mariadb) || die "mariadb client not found"
	print_status
}

# ---------------------------------------------------------------- down

cmd_down() {
	if [ ! -f "$ENV_FILE" ]; then
		log "no topology in $DIR (no topology.env); nothing to do"
		return 0
	fi
	local n port pid pids=() deadline
	for ((n = 0; n < NODES; n++)); do
		port=${NODE_PORT[n]}
		if pid=$(node_pid "$port"); then
			kill -TERM "$pid" 2>/dev/null || true
			pids+=("$pid")
		fi
	done
	if [ ${#pids[@]} -gt 0 ]; then
		log "stopping ${#pids[@]} node(s)"
		deadline=$(($(now_ms) + STOP_TIMEOUT * 1000))
		while :; do
			local alive=()
			for pid in "${pids[@]}"; do
				pid_is_mariadbd "$pid" && alive+=("$pid")
			done
			[ ${#alive[@]} -eq 0 ] && break
			if [ "$(now_ms)" -gt "$deadline" ]; then
				log "killing ${alive[*]} after ${STOP_TIMEOUT}s"
				for pid in "${alive[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
				deadline=$(($(now_ms) + 5000))
				pids=("${alive[@]}")
				sleep 0.2
				continue
			fi
			sleep 0.1
		done
	fi
	if [ "$KEEP" = 1 ]; then
		log "stopped; kept $DIR"
		return 0
	fi
	# Remove only what `up` creates, then DIR itself if that left it empty.
	for ((n = 0; n < NODES; n++)); do
		rm -rf "${DIR:?}/${NODE_PORT[n]}"
	done
	rm -rf "${DIR:?}/template" "${DIR:?}/template.tmp" "${DIR:?}/template-install.log" "$ENV_FILE" "$ENV_FILE.tmp"
	rmdir "$DIR" 2>/dev/null || log "left $DIR in place (not empty)"
	log "down: removed topology in $DIR"
}

# ---------------------------------------------------------------- main

case $CMD in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
env)
	[ -f "$ENV_FILE" ] || log "warning: $ENV_FILE does not exist yet (run up)"
	printf 'export SWITCHYARD_TOPOLOGY=%q\n' "$ENV_FILE"
	;;
esac
