#!/usr/bin/env bash
# scripts/bench/consistency.sh - read consistency levels through Switchyard.
#
# For each level (users rc_eventual, rc_session, rc_global, all rw_split):
# sysbench oltp_read_write with --skip_trx=on (so reads are autocommit and
# eligible for the replica), 8 threads, BENCH_TIME seconds; then a
# write-then-read loop (sybench rwloop). Reports QPS, p95 latency, the share
# of reads the replica served (from switchyard_consistency_reads_total) and
# stale reads seen by the loop. Without transactions, two threads may
# delete and re-insert the same random id at once: sysbench then sees
# duplicate keys (1062), a race of the workload itself, so it ignores them.
set -euo pipefail
BENCH_PROG=consistency
# shellcheck source=scripts/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BENCH_TIME=${BENCH_TIME:-20}
TABLE_SIZE=${TABLE_SIZE:-100000}
TABLES=${TABLES:-4}
bench_setup consistency

sql_root "$PRIMARY_PORT" "CREATE DATABASE IF NOT EXISTS sbtest; CREATE DATABASE IF NOT EXISTS bench"
sysbench oltp_read_write --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$PRIMARY_PORT" \
	--mysql-user="$DB_USER" --mysql-password="$DB_PASS" --mysql-db=sbtest \
	--tables="$TABLES" --table-size="$TABLE_SIZE" prepare >"$BENCH_RESULTS/prepare.log" 2>&1
wait_replica

SYBENCH=$BENCH_DIR/sybench
(cd "$REPO_ROOT" && go build -o "$SYBENCH" ./cmd/sybench)

metric() { # level outcome
	curl -s "http://127.0.0.1:$BENCH_ADMIN_PORT/metrics" |
		awk -v l="$1" -v o="$2" '$1 ~ /^switchyard_consistency_reads_total/ && index($1, "level=\"" l "\"") && index($1, "outcome=\"" o "\"") {print $2}' |
		awk '{s+=$1} END {printf "%d", s}'
}
replica_reads() { echo $(($(metric "$1" replica) + $(metric "$1" replica_known) + $(metric "$1" replica_waited))); }
all_reads() {
	local l=$1 t=0 o
	for o in replica replica_known replica_waited primary_timeout primary_no_replica primary_no_gtid; do
		t=$((t + $(metric "$l" "$o")))
	done
	echo "$t"
}

{
	echo "## sysbench oltp_read_write --skip_trx=on, 8 threads, ${BENCH_TIME}s"
	echo
	echo "| level | QPS | p95 ms | reads on replica | outcomes (known / waited / primary after timeout) |"
	echo "|---|---|---|---|---|"
} | tee "$BENCH_RESULTS/results.md"
for level in eventual session global; do
	r0=$(replica_reads "$level")
	a0=$(all_reads "$level")
	k0=$(metric "$level" replica_known)
	w0=$(metric "$level" replica_waited)
	t0=$(metric "$level" primary_timeout)
	out=$(sysbench oltp_read_write --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$BENCH_PROXY_PORT" \
		--mysql-user="rc_$level" --mysql-password=rc --mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE" \
		--threads=8 --time="$BENCH_TIME" --skip_trx=on --percentile=95 \
		--mysql-ignore-errors=1062,1213,1020,1205 run 2>&1) || {
		echo "$out" | tail -20 >&2
		die "sysbench failed for level $level"
	}
	echo "$out" >>"$BENCH_RESULTS/runs.log"
	qps=$(echo "$out" | awk '/queries:/ {gsub(/\(/, "", $3); print $3}')
	p95=$(echo "$out" | awk '/95th percentile:/ {print $3}')
	r=$(($(replica_reads "$level") - r0))
	a=$(($(all_reads "$level") - a0))
	share=$(awk -v r="$r" -v a="$a" 'BEGIN { if (a > 0) printf "%.1f%%", 100*r/a; else print "n/a" }')
	echo "| $level | $qps | $p95 | $share ($r of $a) | $(($(metric "$level" replica_known) - k0)) / $(($(metric "$level" replica_waited) - w0)) / $(($(metric "$level" primary_timeout) - t0)) |" | tee -a "$BENCH_RESULTS/results.md"
done
{
	echo
	echo "## write-then-read loop (UPDATE own row, SELECT it back), 8 clients, ${BENCH_TIME}s"
	echo
	echo "| user | loops | loops/s | p95 ms | stale reads | errors |"
	echo "|---|---|---|---|---|---|"
} | tee -a "$BENCH_RESULTS/results.md"
for level in eventual session global; do
	"$SYBENCH" rwloop -proxy "127.0.0.1:$BENCH_PROXY_PORT" -user "rc_$level" -pass rc -db bench -time "${BENCH_TIME}s" | tee -a "$BENCH_RESULTS/results.md"
done
say "results in $BENCH_RESULTS/results.md"
