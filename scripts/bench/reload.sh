#!/usr/bin/env bash
# scripts/bench/reload.sh - live configuration figures (docs/benchmarks.md):
#   1. QPS of sysbench oltp_read_write through one proxy (file mode) without
#      reloads, then while the configuration is reloaded every RELOAD_EVERY
#      seconds (SIGHUP; every reload adds or removes a user and changes the
#      replica's weight, so a namespace really changes);
#   2. two proxies in etcd mode on one etcd (cmd/etcd-embedded): the time
#      from `switchyard config put` returning to the change being applied
#      on both (polling GET /api/config every 5 ms), PUTS times, under
#      sysbench load through both proxies (each on its own database, so the
#      two runs do not deadlock each other).
# It starts its own topology (1 slice: primary + replica) on BENCH_BASE_PORT
# (default 4560) and stops everything it started at exit.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO_ROOT"
BASE=${BENCH_BASE_PORT:-4560}
DIR=${BENCH_DIR:-/tmp/switchyard-bench-reload}
T=${BENCH_TIME:-20}
THREADS=${BENCH_THREADS:-8}
RELOAD_EVERY=${RELOAD_EVERY:-1}
PUTS=${PUTS:-20}
P1=$((BASE + 100)) A1=$((BASE + 101)) P2=$((BASE + 102)) A2=$((BASE + 103)) ETCD=$((BASE + 110))
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then export PATH=/usr/local/go/bin:$PATH; fi
say() { printf 'reload.sh: %s\n' "$*" >&2; }
PIDS=()
cleanup() {
	# Newest first: the proxies stop before etcd.
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill "${PIDS[i]}" 2>/dev/null || true; done
	wait 2>/dev/null || true
	scripts/topology.sh down --dir "$DIR/topo" >/dev/null 2>&1 || true
}
trap cleanup EXIT
mkdir -p "$DIR"
scripts/topology.sh up --slices 1 --replicas 1 --base-port "$BASE" --dir "$DIR/topo" >"$DIR/topology.log" 2>&1
go build -o "$DIR/switchyard" ./cmd/switchyard
go build -o "$DIR/etcd-embedded" ./cmd/etcd-embedded
mariadb -h127.0.0.1 -P"$BASE" -uroot -proot -e "CREATE DATABASE IF NOT EXISTS sbtest; CREATE DATABASE IF NOT EXISTS sbtest2"

local_file() { # listen admin
	printf 'listen: 127.0.0.1:%s\nadmin: {listen: 127.0.0.1:%s, user: admin, password: admin}\nlog: {level: info}\n' "$1" "$2"
}
namespaces() { # extra-user(0/1) replica-weight
	printf 'namespaces:\n  - name: sb\n    users:\n      - {name: sb, password: sb}\n'
	[ "$1" = 1 ] && printf '      - {name: extra, password: extra}\n'
	printf '    backend: {user: proxy, password: proxy}\n'
	printf '    slices: [{name: s0, primary: 127.0.0.1:%s, replicas: ["127.0.0.1:%s@%s"]}]\n' "$BASE" "$((BASE + 1))" "$2"
}
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
SB=(${SB_EXTRA:-} --db-driver=mysql --mysql-host=127.0.0.1 --mysql-user=sb --mysql-password=sb --tables=4 --table-size=10000)
RUN_N=0
run_sb() { # port seconds [db] -> "qps errors" (full output in $DIR/sysbench-PORT-N.txt)
	RUN_N=$((RUN_N + 1))
	sysbench oltp_read_write "${SB[@]}" --mysql-db="${3:-sbtest}" --mysql-port="$1" --threads="$THREADS" --time="$2" run | tee "$DIR/sysbench-$1-$RUN_N.txt" |
		awk '/queries:/ && /per sec/ {gsub(/[(]/,""); q=$3} /ignored errors:/ {e=$3} END {print q, e+0}'
}

# 1. File mode.
{ local_file "$P1" "$A1"; namespaces 0 1; } >"$DIR/file.yaml"
"$DIR/switchyard" serve --config "$DIR/file.yaml" 2>"$DIR/file.log" &
PIDS+=($!)
SYPID=$!
wait_port "$P1"
sysbench oltp_read_write "${SB[@]}" --mysql-db=sbtest --mysql-port="$P1" prepare >/dev/null
sysbench oltp_read_write "${SB[@]}" --mysql-db=sbtest2 --mysql-port="$P1" prepare >/dev/null
run_sb "$P1" 5 >/dev/null
base=$(run_sb "$P1" "$T")
(
	i=0
	while :; do
		sleep "$RELOAD_EVERY"
		i=$((i + 1))
		{ local_file "$P1" "$A1"; namespaces $((i % 2)) $((1 + i % 3)); } >"$DIR/file.yaml"
		kill -HUP "$SYPID"
	done
) &
RELOADER=$!
PIDS+=($RELOADER)
during=$(run_sb "$P1" "$T")
kill "$RELOADER"
applied=$(grep -c "configuration applied" "$DIR/file.log" || true)
rejected=$(grep -c "configuration change rejected" "$DIR/file.log" || true)
echo "file mode, oltp_read_write, $THREADS threads, ${T}s: no reloads: qps errors = $base; reload every ${RELOAD_EVERY}s: qps errors = $during ($applied applied, $rejected rejected)"
kill "$SYPID"

# 2. etcd mode: two proxies.
"$DIR/etcd-embedded" --listen "127.0.0.1:$ETCD" --peer "127.0.0.1:$((ETCD + 1))" --dir "$DIR/etcd" >"$DIR/etcd.log" 2>&1 &
PIDS+=($!)
wait_port "$ETCD"
EP=127.0.0.1:$ETCD
namespaces 0 1 >"$DIR/ns.yaml"
"$DIR/switchyard" config put --etcd "$EP" --cluster bench "$DIR/ns.yaml" >/dev/null
local_file "$P1" "$A1" >"$DIR/l1.yaml"
local_file "$P2" "$A2" >"$DIR/l2.yaml"
"$DIR/switchyard" serve --config "$DIR/l1.yaml" --etcd "$EP" --cluster bench 2>"$DIR/p1.log" &
PIDS+=($!)
"$DIR/switchyard" serve --config "$DIR/l2.yaml" --etcd "$EP" --cluster bench 2>"$DIR/p2.log" &
PIDS+=($!)
wait_port "$P1"
wait_port "$P2"
rev_of() { curl -s -u admin:admin "http://127.0.0.1:$1/api/config" | sed -n 's/.*"revision": *\([0-9]*\).*/\1/p'; }
run_sb "$P1" $((T + 10)) >"$DIR/sb1.out" &
SB1=$!
run_sb "$P2" $((T + 10)) sbtest2 >"$DIR/sb2.out" &
SB2=$!
sleep 2
times=()
for i in $(seq "$PUTS"); do
	namespaces $((i % 2)) $((1 + i % 3)) >"$DIR/ns.yaml"
	rev=$("$DIR/switchyard" config put --etcd "$EP" --cluster bench "$DIR/ns.yaml" 2>/dev/null | sed -n 's/.*at revision \([0-9]*\).*/\1/p')
	t0=$(date +%s%N)
	while [ "$(rev_of "$A1")" -lt "$rev" ] || [ "$(rev_of "$A2")" -lt "$rev" ]; do sleep 0.005; done
	times+=($((($(date +%s%N) - t0) / 1000)))
done
wait "$SB1" "$SB2"
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "etcd mode, 2 proxies, $PUTS config puts under load: put-to-applied-on-both µs: min $(echo "$sorted" | head -1) median $(echo "$sorted" | sed -n "$(((PUTS + 1) / 2))p") max $(echo "$sorted" | tail -1); sysbench qps errors: proxy1 $(cat "$DIR/sb1.out"), proxy2 $(cat "$DIR/sb2.out")"
