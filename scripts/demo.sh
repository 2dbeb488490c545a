#!/usr/bin/env bash
# scripts/demo.sh [up|down] - run Switchyard in front of a local MariaDB topology.
#
#   up (default)  install MariaDB if needed, start 2 slices x 1 replica
#                 (ports 3310/3311, 3320/3321) in ./.demo/topology, create the
#                 demo database `shop` on both slices, build ./.demo/switchyard,
#                 run it with examples/demo.yaml on 127.0.0.1:13306, and create
#                 the demo tables (sharded t_user, linked t_order, global
#                 t_region) with a few rows through the proxy.
#   down          stop the proxy and the topology.
#
# Both are idempotent; `up` rebuilds and restarts the proxy.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"

DEMO_DIR=$REPO_ROOT/.demo
TOPO_DIR=$DEMO_DIR/topology
BIN=$DEMO_DIR/switchyard
PID_FILE=$DEMO_DIR/switchyard.pid
LOG_FILE=$DEMO_DIR/switchyard.log
CONFIG=examples/demo.yaml
LISTEN_PORT=13306
TOPO=$REPO_ROOT/scripts/topology.sh

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=/usr/local/go/bin:$PATH
fi

say() { printf 'demo: %s\n' "$*" >&2; }
die() {
	printf 'demo: error: %s\n' "$*" >&2
	exit 1
}

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

proxy_pid() {
	local pid
	pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = switchyard ] || return 1
	echo "$pid"
}

stop_proxy() {
	local pid i
	if pid=$(proxy_pid); then
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
	rm -f "$PID_FILE"
}

cmd_up() {
	local pkgs=()
	if ! have mariadbd || ! have mariadb-install-db; then pkgs+=(mariadb-server); fi
	if ! have mariadb; then pkgs+=(mariadb-client); fi
	if [ ${#pkgs[@]} -gt 0 ]; then
		[ "$(id -u)" = 0 ] || die "please install ${pkgs[*]} (sudo apt-get install ${pkgs[*]})"
		say "installing ${pkgs[*]}"
		apt-get update
		DEBIAN_FRONTEND=noninteractive apt-get install -y "${pkgs[@]}"
	fi
	command -v go >/dev/null 2>&1 || die "go not found (expected in PATH or /usr/local/go/bin)"

	mkdir -p "$DEMO_DIR"
	"$TOPO" up --dir "$TOPO_DIR" --slices 2 --replicas 1 --base-port 3310

	say "creating database shop on both slices"
	for port in 3310 3320; do
		mariadb --no-defaults -h127.0.0.1 -P"$port" -uroot -proot -e "CREATE DATABASE IF NOT EXISTS shop"
	done

	say "building $BIN"
	go build -o "$BIN" ./cmd/switchyard

	stop_proxy
	if port_open "$LISTEN_PORT"; then
		die "127.0.0.1:$LISTEN_PORT is already in use by another process"
	fi
	say "starting switchyard serve --config $CONFIG (log: $LOG_FILE)"
	printf '\n==== %s demo.sh up ====\n' "$(date '+%F %T')" >>"$LOG_FILE"
	setsid "$BIN" serve --config "$CONFIG" </dev/null >>"$LOG_FILE" 2>&1 &
	echo "$!" >"$PID_FILE"

	local i pid
	pid=$(cat "$PID_FILE")
	for ((i = 0; i < 200; i++)); do
		if port_open "$LISTEN_PORT"; then
			break
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 30 "$LOG_FILE" >&2 || true
			die "switchyard exited during startup (log: $LOG_FILE)"
		fi
		sleep 0.1
	done
	if ! port_open "$LISTEN_PORT"; then
		tail -n 30 "$LOG_FILE" >&2 || true
		die "switchyard is not accepting connections on 127.0.0.1:$LISTEN_PORT after 20s (log: $LOG_FILE)"
	fi

	say "creating the demo tables through the proxy (DDL fans out to every physical table)"
	mariadb --no-defaults -h127.0.0.1 -P"$LISTEN_PORT" -uapp -papp_pw shop -e "
		CREATE TABLE IF NOT EXISTS t_region (id INT PRIMARY KEY, name VARCHAR(64));
		CREATE TABLE IF NOT EXISTS t_user (id BIGINT PRIMARY KEY, name VARCHAR(64), region_id INT);
		CREATE TABLE IF NOT EXISTS t_order (id BIGINT PRIMARY KEY, user_id BIGINT, amount DECIMAL(10,2));
		INSERT IGNORE INTO t_region VALUES (1, 'north'), (2, 'south'), (3, 'east'), (4, 'west');
		INSERT IGNORE INTO t_user (id, name, region_id) VALUES (1, 'ann', 1), (2, 'bob', 2), (3, 'cid', 3), (4, 'dee', 4), (5, 'eve', 1);
		INSERT IGNORE INTO t_order (id, user_id, amount) VALUES (101, 1, 9.50), (102, 1, 20.00), (103, 2, 5.25), (104, 3, 42.00), (105, 5, 7.75);" ||
		die "creating the demo tables through the proxy failed (log: $LOG_FILE)"

	say "switchyard is running (pid $pid); connect with:"
	echo "mariadb -h127.0.0.1 -P$LISTEN_PORT -uapp -papp_pw shop"
}

cmd_down() {
	stop_proxy
	"$TOPO" down --dir "$TOPO_DIR"
}

case ${1:-up} in
up) cmd_up ;;
down) cmd_down ;;
-h | --help | help) sed -n '2,10s/^# \{0,1\}//p' "$0" ;;
*)
	echo "usage: scripts/demo.sh [up|down]" >&2
	exit 2
	;;
esac
