#!/usr/bin/env bash
# scripts/bench/sharding.sh - sharding benchmarks on a private topology of
# three slices (docs/benchmarks.md):
#
#   scripts/bench/sharding.sh
#   BENCH_ROWS=100000 BENCH_TXN_TIME=3s scripts/bench/sharding.sh   # smaller
#
# 1. scatter: t_big (id, k, pad) sharded by id over three slices (hash, one
#    physical table per slice) holds BENCH_ROWS rows, loaded directly on the
#    backends; the same rows sit in one table (bench_ref.t_ref) on slice 0's
#    primary. `sybench scatter` times ORDER BY/LIMIT, a full ordered stream,
#    GROUP BY and aggregates through the proxy and on the one server, and
#    samples the proxy's peak VmRSS (every 20 ms) during each query.
# 2. txn: `sybench txn` runs, for BENCH_TXN_TIME each with BENCH_CLIENTS
#    clients: transactions updating two accounts on one slice, the same on
#    two slices (XA two-phase commit), INSERTs with the id given, and
#    INSERTs whose id comes from the proxy's table sequence.
# 3. point: sysbench oltp_point_select (8 threads, BENCH_POINT_TIME each,
#    text and prepared) through the proxy on sbtest1 sharded by id over the
#    three slices (database bench_shard) and on the same table unsharded
#    (database bench_plain, on slice 0), with the proxy's CPU per query
#    (utime+stime from /proc/PID/stat): the cost of routing by key.
#
# Environment: BENCH_ROWS [1000000], BENCH_CLIENTS [8], BENCH_TXN_TIME [10s],
# and those of scripts/bench/lib.sh. Output in BENCH_RESULTS/sharding.md
# (and on stdout).
set -euo pipefail

BENCH_PROG=bench-sharding
BENCH_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export BENCH_SLICES=3
export BENCH_NS_EXTRA='    default_slice: s0
    allowed_databases: [bench_plain]
    databases:
      - name: bench_shard
        tables:
          - {name: t_big, type: sharded, key: id, algorithm: hash, slices: [s0, s1, s2], tables_per_slice: 1}
          - {name: t_acct, type: sharded, key: id, algorithm: mod, slices: [s0, s1, s2], tables_per_slice: 1}
          - {name: t_given, type: sharded, key: id, algorithm: hash, slices: [s0, s1, s2], tables_per_slice: 1}
          - {name: t_seq, type: sharded, key: id, algorithm: hash, slices: [s0, s1, s2], tables_per_slice: 1, sequence: {block: 1000}}
          - {name: sbtest1, type: sharded, key: id, algorithm: hash, slices: [s0, s1, s2], tables_per_slice: 1}'
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$BENCH_SCRIPT_DIR/lib.sh"

ROWS=${BENCH_ROWS:-1000000}
CLIENTS=${BENCH_CLIENTS:-8}
TXN_TIME=${BENCH_TXN_TIME:-10s}
POINT_TIME=${BENCH_POINT_TIME:-10}
POINT_ROWS=${BENCH_POINT_ROWS:-100000}
[[ $ROWS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROWS must be a positive whole number, got '$ROWS'"

bench_setup sharding
SYBENCH=$BENCH_DIR/sybench
say "building $SYBENCH"
(cd "$REPO_ROOT" && go build -o "$SYBENCH" ./cmd/sybench)

PROXY=127.0.0.1:$BENCH_PROXY_PORT
sqlp() { mariadb -h127.0.0.1 -P"$BENCH_PROXY_PORT" -u"$BENCH_USER" -p"$BENCH_PASS" -N -B bench_shard -e "$1"; }
say "creating tables through the proxy (DDL fans out)"
for i in 0 1 2; do sql_root "$((PRIMARY_PORT + 10 * i))" "CREATE DATABASE IF NOT EXISTS bench_shard"; done
sqlp "CREATE TABLE t_big (id BIGINT PRIMARY KEY, k INT NOT NULL, pad CHAR(60) NOT NULL)"
sqlp "CREATE TABLE t_acct (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL)"
sqlp "CREATE TABLE t_given (id BIGINT PRIMARY KEY, v VARCHAR(10))"
sqlp "CREATE TABLE t_seq (id BIGINT PRIMARY KEY, v VARCHAR(10))"
say "loading $ROWS rows into t_big (directly on the backends) and t_ref"
# hash over three tables: id % 3 picks the table; k is a scrambled value.
for i in 0 1 2; do
	sql_root "$((PRIMARY_PORT + 10 * i))" "INSERT INTO bench_shard.t_big_000$i SELECT seq, (seq * 7919) % 1000003, REPEAT('p', 60) FROM bench_shard.seq_1_to_$ROWS WHERE seq % 3 = $i"
	sql_root "$((PRIMARY_PORT + 10 * i))" "INSERT INTO bench_shard.t_acct_000$i SELECT seq, 1000 FROM bench_shard.seq_0_to_2999 WHERE seq % 3 = $i"
done
sql_root "$PRIMARY_PORT" "CREATE DATABASE IF NOT EXISTS bench_ref"
sql_root "$PRIMARY_PORT" "CREATE TABLE IF NOT EXISTS bench_ref.t_ref (id BIGINT PRIMARY KEY, k INT NOT NULL, pad CHAR(60) NOT NULL)"
sql_root "$PRIMARY_PORT" "INSERT INTO bench_ref.t_ref SELECT seq, (seq * 7919) % 1000003, REPEAT('p', 60) FROM bench_ref.seq_1_to_$ROWS"
say "waiting for the replicas"
for i in 0 1 2; do
	gtid=$(sql_root "$((PRIMARY_PORT + 10 * i))" "SELECT @@gtid_binlog_pos")
	sql_root "$((REPLICA_PORT + 10 * i))" "SELECT MASTER_GTID_WAIT('$gtid', 600)" >/dev/null
done

OUT=$BENCH_RESULTS/sharding.md
{
	echo "# Switchyard sharding benchmarks"
	echo
	echo "command: BENCH_ROWS=$ROWS BENCH_CLIENTS=$CLIENTS BENCH_TXN_TIME=$TXN_TIME scripts/bench/sharding.sh"
	echo
	sed 's/^/    /' "$BENCH_RESULTS/machine.txt"
	echo
	echo "## Scatter queries over $ROWS rows (3 slices) vs one server"
	echo
} >"$OUT"
say "scatter queries (proxy pid $PROXY_PID)"
"$SYBENCH" scatter -proxy "$PROXY" -direct "127.0.0.1:$PRIMARY_PORT" -user "$BENCH_USER" -pass "$BENCH_PASS" -pid "$PROXY_PID" | tee -a "$OUT"
{
	echo
	echo "## Transactions and sequences ($CLIENTS clients)"
	echo
} >>"$OUT"
say "transactions and sequences"
"$SYBENCH" txn -proxy "$PROXY" -user "$BENCH_USER" -pass "$BENCH_PASS" -clients "$CLIENTS" -time "$TXN_TIME" | tee -a "$OUT"
say "point selects: sbtest1 sharded (bench_shard) vs unsharded (bench_plain), $POINT_ROWS rows"
SBSCHEMA="(id INT NOT NULL PRIMARY KEY, k INT NOT NULL DEFAULT 0, c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', KEY k_1 (k))"
sqlp "CREATE TABLE sbtest1 $SBSCHEMA"
sql_root "$PRIMARY_PORT" "CREATE DATABASE IF NOT EXISTS bench_plain"
sql_root "$PRIMARY_PORT" "CREATE TABLE IF NOT EXISTS bench_plain.sbtest1 $SBSCHEMA"
sql_root "$PRIMARY_PORT" "INSERT INTO bench_plain.sbtest1 SELECT seq, seq % 1000, REPEAT('c', 120), REPEAT('p', 60) FROM bench_plain.seq_1_to_$POINT_ROWS"
for i in 0 1 2; do
	sql_root "$((PRIMARY_PORT + 10 * i))" "INSERT INTO bench_shard.sbtest1_000$i SELECT seq, seq % 1000, REPEAT('c', 120), REPEAT('p', 60) FROM bench_shard.seq_1_to_$POINT_ROWS WHERE seq % 3 = $i"
done
{
	echo
	echo "## sysbench oltp_point_select through the proxy: sharded vs unsharded ($POINT_ROWS rows, 8 threads, ${POINT_TIME} s)"
	echo
	echo "| table | ps mode | QPS | p95 ms | proxy CPU µs/query |"
	echo "|---|---|---:|---:|---:|"
} >>"$OUT"
for ps in disable auto; do
	for db in bench_plain bench_shard; do
		t0=$(cpu_ticks "$PROXY_PID")
		res=$(sysbench oltp_point_select --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$BENCH_PROXY_PORT" \
			--mysql-user="$BENCH_USER" --mysql-password="$BENCH_PASS" --mysql-db="$db" --tables=1 --table-size="$POINT_ROWS" \
			--threads=8 --time="$POINT_TIME" --db-ps-mode="$ps" --percentile=95 --report-interval=0 run 2>&1) ||
			die "sysbench on $db ($ps) failed: $res"
		t1=$(cpu_ticks "$PROXY_PID")
		q=$(awk '/queries:/ {print $2; exit}' <<<"$res")
		qps=$(awk '/queries:/ {gsub(/[()]/, "", $3); print $3; exit}' <<<"$res")
		p95=$(awk '/95th percentile:/ {print $3; exit}' <<<"$res")
		us=$(awk -v a="$t0" -v b="$t1" -v q="$q" -v hz="$(getconf CLK_TCK)" 'BEGIN {split(a, x, " "); split(b, y, " "); printf "%.1f", ((y[1]+y[2])-(x[1]+x[2]))/hz*1e6/q}')
		echo "| $db | $ps | $qps | $p95 | $us |" | tee -a "$OUT"
	done
done
say "results in $OUT"
