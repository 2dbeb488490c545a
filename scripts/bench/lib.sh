# shellcheck shell=bash
# scripts/bench/lib.sh - shared setup for scripts/bench/sysbench.sh and
# scripts/bench/memory.sh (sourced, not run).
#
# bench_setup starts a private topology (1 slice: primary + 1 replica) with
# scripts/topology.sh, builds Switchyard, writes its configuration and starts
# it; bench_cleanup (installed as an EXIT trap by bench_setup) stops the proxy
# and removes the topology. Only processes started here are ever stopped.
#
# Environment (all optional):
#   BENCH_DIR          work directory (default /tmp/switchyard-bench); the
#                      topology lives in BENCH_DIR/topo
#   BENCH_BASE_PORT    primary port (default 4510; the replica is +1)
#   BENCH_PROXY_PORT   proxy listener port (default 14506)
#   BENCH_ADMIN_PORT   proxy admin port (default BENCH_PROXY_PORT+1)
#   BENCH_BUFFER_POOL_MB  InnoDB buffer pool set on both servers after start
#                      (default 1024; topology.sh starts them with 64M)
#   BENCH_PROXY_NOFILE open-file limit for the proxy (default 20000)
#   BENCH_RESULTS      directory for logs and results (default
#                      /tmp/switchyard-bench-results/<date>-<script>)
#   BENCH_KEEP=1       leave topology and proxy running at exit (debugging)
#   BENCH_SLICES       slices of the topology (default 1; slice i has its
#                      primary on BENCH_BASE_PORT+10*i, replica +1)
#   BENCH_NS_EXTRA     YAML appended to the namespace (indented 4 spaces),
#                      e.g. sharding rules

BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_LIB_DIR/../.." && pwd)
TOPO=$REPO_ROOT/scripts/topology.sh

BENCH_DIR=${BENCH_DIR:-/tmp/switchyard-bench}
BENCH_BASE_PORT=${BENCH_BASE_PORT:-4510}
BENCH_PROXY_PORT=${BENCH_PROXY_PORT:-14506}
BENCH_ADMIN_PORT=${BENCH_ADMIN_PORT:-$((BENCH_PROXY_PORT + 1))}
BENCH_BUFFER_POOL_MB=${BENCH_BUFFER_POOL_MB:-1024}
BENCH_PROXY_NOFILE=${BENCH_PROXY_NOFILE:-20000}
BENCH_KEEP=${BENCH_KEEP:-0}
BENCH_SLICES=${BENCH_SLICES:-1}
BENCH_NS_EXTRA=${BENCH_NS_EXTRA:-}

PRIMARY_PORT=$BENCH_BASE_PORT
REPLICA_PORT=$((BENCH_BASE_PORT + 1))
TOPO_DIR=$BENCH_DIR/topo
PROXY_BIN=$BENCH_DIR/switchyard
PROXY_CONF=$BENCH_DIR/switchyard.yaml
PROXY_PIDFILE=$BENCH_DIR/switchyard.pid
PROXY_PID=
TOPO_STARTED=0

# Accounts: the backend user created by topology.sh, and the proxy's users.
DB_USER=proxy
DB_PASS=proxy
BENCH_USER=bench
BENCH_PASS=bench
BENCHRW_USER=benchrw
BENCHRW_PASS=benchrw
ADMIN_USER="admin"
ADMIN_PASS="admin"

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=/usr/local/go/bin:$PATH
fi

say() { printf '%s: %s\n' "${BENCH_PROG:-bench}" "$*" >&2; }
die() {
	printf '%s: error: %s\n' "${BENCH_PROG:-bench}" "$*" >&2
	exit 1
}
now_ms() { date +%s%3N; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

bench_need() { # tool...
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || die "$t not found in PATH"
	done
}

# bench_results NAME: sets BENCH_RESULTS and creates it.
bench_results() {
	BENCH_RESULTS=${BENCH_RESULTS:-/tmp/switchyard-bench-results/$(date +%Y%m%d-%H%M%S)-$1}
	mkdir -p "$BENCH_RESULTS"
}

# SQL as root on a node over TCP (root/root, see scripts/topology.sh).
sql_root() { # port sql
	mariadb --no-defaults --connect-timeout=5 -h127.0.0.1 -P"$1" -uroot -proot -N -B -e "$2"
}

mariadb_pid() { # port
	cat "$TOPO_DIR/$1/mysqld.pid"
}

# utime and stime (clock ticks) of a process, all threads included.
cpu_ticks() { # pid
	local stat f
	stat=$(<"/proc/$1/stat")
	# The command name (field 2) may contain spaces and ')': split after it.
	read -r -a f <<<"${stat##*) }"
	# f[0] is field 3 (state); utime is field 14, stime field 15.
	echo "${f[11]} ${f[12]}"
}

machine_info() {
	local cpu
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
	echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "nproc: $(nproc)"
	echo "cpu: ${cpu:-unknown}"
	echo "kernel: $(uname -r)"
	echo "free -g:"
	free -g | sed 's/^/    /'
	echo "mariadb: $(mariadb --version 2>/dev/null | sed 's/^.*Distrib \([^,]*\),.*/\1/')"
	echo "sysbench: $(sysbench --version 2>/dev/null || echo none)"
	echo "go: $(go version)"
	echo "commit: $(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$REPO_ROOT" diff --quiet HEAD 2>/dev/null || echo ' (working tree has local changes)')"
}

# ---------------------------------------------------------------- proxy

# pid of the proxy this library started (from the pid file), if it runs.
proxy_running_pid() {
	local pid
	pid=$(cat "$PROXY_PIDFILE" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = switchyard ] || return 1
	# Only ours: started with our configuration file.
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--config $PROXY_CONF" || return 1
	echo "$pid"
}

proxy_stop() {
	local pid i
	if pid=$(proxy_running_pid); then
		say "stopping switchyard (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			say "switchyard did not exit after 10s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$PROXY_PIDFILE"
	PROXY_PID=
}

write_config() {
	cat >"$PROXY_CONF" <<EOF
# Written by scripts/bench/lib.sh.
listen: 127.0.0.1:$BENCH_PROXY_PORT
admin: {listen: 127.0.0.1:$BENCH_ADMIN_PORT, user: $ADMIN_USER, password: $ADMIN_PASS}
log: {level: warn, format: text}
namespaces:
  - name: bench
    users:
      - {name: $BENCH_USER, password: $BENCH_PASS, rw_split: false}
      - {name: $BENCHRW_USER, password: $BENCHRW_PASS, rw_split: true}
      - {name: rc_eventual, password: rc, rw_split: true, read_consistency: eventual}
      - {name: rc_session, password: rc, rw_split: true, read_consistency: session}
      - {name: rc_global, password: rc, rw_split: true, read_consistency: global}
    backend: {user: $DB_USER, password: $DB_PASS}
    pool: {max_open: 64}
    slices:
EOF
	local i
	for ((i = 0; i < BENCH_SLICES; i++)); do
		echo "      - {name: s$i, primary: 127.0.0.1:$((PRIMARY_PORT + 10 * i)), replicas: [127.0.0.1:$((REPLICA_PORT + 10 * i))]}" >>"$PROXY_CONF"
	done
	if [ -n "$BENCH_NS_EXTRA" ]; then
		printf '%s\n' "$BENCH_NS_EXTRA" >>"$PROXY_CONF"
	fi
	"$PROXY_BIN" check --config "$PROXY_CONF" >/dev/null
}

proxy_start() {
	local log=$BENCH_RESULTS/switchyard.log i pid
	proxy_stop
	for i in "$BENCH_PROXY_PORT" "$BENCH_ADMIN_PORT"; do
		port_open "$i" && die "127.0.0.1:$i is already in use by another process"
	done
	printf '\n==== %s proxy start ====\n' "$(date '+%F %T')" >>"$log"
	(
		exec 9>&- # the lock stays with this script
		# Thousands of client connections need thousands of descriptors.
		ulimit -n "$BENCH_PROXY_NOFILE" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
		exec setsid "$PROXY_BIN" serve --config "$PROXY_CONF" </dev/null >>"$log" 2>&1
	) &
	pid=$!
	echo "$pid" >"$PROXY_PIDFILE"
	for ((i = 0; i < 200; i++)); do
		port_open "$BENCH_PROXY_PORT" && port_open "$BENCH_ADMIN_PORT" && break
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 30 "$log" >&2 || true
			die "switchyard exited during startup (log: $log)"
		fi
		sleep 0.1
	done
	port_open "$BENCH_PROXY_PORT" || die "switchyard is not listening on 127.0.0.1:$BENCH_PROXY_PORT after 20s (log: $log)"
	PROXY_PID=$(proxy_running_pid) || die "switchyard pid $pid is not the proxy (setsid forked?)"
	say "switchyard running (pid $PROXY_PID, open-file limit $(awk '/^Max open files/ {print $4}' "/proc/$PROXY_PID/limits"), log $log)"
}

# ---------------------------------------------------------------- topology

# Waits until the replica has applied everything the primary logged.
wait_replica() {
	local gtid r
	gtid=$(sql_root "$PRIMARY_PORT" "SELECT @@gtid_binlog_pos")
	[ -n "$gtid" ] || return 0
	r=$(sql_root "$REPLICA_PORT" "SELECT MASTER_GTID_WAIT('$gtid', 300)")
	[ "$r" = 0 ] || die "replica :$REPLICA_PORT did not reach $gtid within 300s"
}

set_buffer_pool() { # port
	local want=$((BENCH_BUFFER_POOL_MB * 1024 * 1024)) i cur
	sql_root "$1" "SET GLOBAL innodb_buffer_pool_size = $want"
	for ((i = 0; i < 600; i++)); do
		cur=$(sql_root "$1" "SELECT @@innodb_buffer_pool_size")
		[ "$cur" -ge "$want" ] && return 0
		sleep 0.1
	done
	die "innodb_buffer_pool_size on :$1 is $cur, not $want"
}

bench_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ "$BENCH_KEEP" = 1 ]; then
		say "BENCH_KEEP=1: leaving switchyard and the topology in $BENCH_DIR running"
		exit "$rc"
	fi
	proxy_stop || true
	if [ "$TOPO_STARTED" = 1 ] || [ -f "$TOPO_DIR/topology.env" ]; then
		"$TOPO" down --dir "$TOPO_DIR" || true
	fi
	rm -f "$PROXY_BIN" "$PROXY_CONF" "$BENCH_DIR/sybench"
	rmdir "$BENCH_DIR" 2>/dev/null || true
	exit "$rc"
}

# Processes holding the lock file open.
lock_holders() {
	local fd pids=()
	for fd in /proc/[0-9]*/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "$BENCH_DIR.lock" ] || continue
		fd=${fd#/proc/}
		pids+=("${fd%%/*}")
	done
	printf '%s\n' "${pids[@]:-?}" | sort -u | tr '\n' ' '
}

# bench_setup NAME: lock, results dir, topology, proxy build + start.
bench_setup() {
	bench_need go mariadb flock setsid curl
	mkdir -p "$BENCH_DIR"
	exec 9>"$BENCH_DIR.lock"
	flock -n 9 || die "another benchmark holds $BENCH_DIR.lock (pids: $(lock_holders))"
	bench_results "$1"
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	# A previous run killed before its cleanup may have left our proxy.
	proxy_stop
	say "topology: $BENCH_SLICES slice(s), first primary :$PRIMARY_PORT, replica :$REPLICA_PORT in $TOPO_DIR"
	TOPO_STARTED=1
	# 9>&-: the servers must not inherit (and hold) the lock.
	"$TOPO" up --dir "$TOPO_DIR" --slices "$BENCH_SLICES" --replicas 1 --base-port "$BENCH_BASE_PORT" >"$BENCH_RESULTS/topology.log" 2>&1 9>&- ||
		{
			cat "$BENCH_RESULTS/topology.log" >&2
			die "scripts/topology.sh up failed"
		}
	local i
	for ((i = 0; i < BENCH_SLICES; i++)); do
		set_buffer_pool "$((PRIMARY_PORT + 10 * i))"
		set_buffer_pool "$((REPLICA_PORT + 10 * i))"
	done

	say "building $PROXY_BIN"
	(cd "$REPO_ROOT" && go build -o "$PROXY_BIN" ./cmd/switchyard)
	write_config
	cp "$PROXY_CONF" "$BENCH_RESULTS/switchyard.yaml"
	proxy_start
	machine_info >"$BENCH_RESULTS/machine.txt"
}
