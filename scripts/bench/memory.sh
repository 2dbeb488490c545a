#!/usr/bin/env bash
# scripts/bench/memory.sh - Switchyard's memory with one huge result and with
# thousands of idle clients, on a private local topology (docs/benchmarks.md).
#
#   scripts/bench/memory.sh
#   BENCH_ROWS=200000 BENCH_IDLE_CONNS=1000 scripts/bench/memory.sh   # smaller
#
# Same topology and proxy as scripts/bench/sysbench.sh (scripts/bench/lib.sh;
# the proxy is started with `ulimit -n BENCH_PROXY_NOFILE`, default 20000).
# Builds cmd/sybench and runs, each on a freshly started proxy:
#   sybench bigselect  SELECT seq, REPEAT('x', 100) FROM seq_1_to_N, read row
#                      by row, direct and through the proxy, interleaved 3x;
#                      proxy VmRSS before / peak during (20 ms samples) / after
#   sybench idle       N client connections through the proxy, each runs
#                      SELECT 1 once and stays idle; proxy VmRSS and backend
#                      connections, then again 2 s after closing them
#
# Environment (defaults in brackets; see also scripts/bench/lib.sh):
#   BENCH_ROWS [1000000]      rows of the big result
#   BENCH_SELECT_REPEAT [3]   bigselect runs per target
#   BENCH_IDLE_CONNS [5000]   idle client connections
#
# Output: both sybench reports on stdout, also in BENCH_RESULTS/memory.md.
set -euo pipefail

BENCH_PROG=bench-memory
BENCH_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$BENCH_SCRIPT_DIR/lib.sh"

ROWS=${BENCH_ROWS:-1000000}
SELECT_REPEAT=${BENCH_SELECT_REPEAT:-3}
IDLE_CONNS=${BENCH_IDLE_CONNS:-5000}
for v in ROWS SELECT_REPEAT IDLE_CONNS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive whole number, got '${!v}'"
done

START_MS=$(now_ms)
bench_setup memory
SYBENCH=$BENCH_DIR/sybench
say "building $SYBENCH"
(cd "$REPO_ROOT" && go build -o "$SYBENCH" ./cmd/sybench)

sql_root "$PRIMARY_PORT" "CREATE DATABASE IF NOT EXISTS bench"
n=$(sql_root "$PRIMARY_PORT" "SELECT COUNT(*) FROM bench.seq_1_to_10") ||
	die "the Sequence engine is not available on :$PRIMARY_PORT"
[ "$n" = 10 ] || die "bench.seq_1_to_10 returned $n rows"
wait_replica

OUT=$BENCH_RESULTS/memory.md
{
	echo "# Switchyard memory: big result, idle clients"
	echo
	echo "command: BENCH_ROWS=$ROWS BENCH_SELECT_REPEAT=$SELECT_REPEAT BENCH_IDLE_CONNS=$IDLE_CONNS scripts/bench/memory.sh"
	echo
	sed 's/^/    /' "$BENCH_RESULTS/machine.txt"
	echo
} >"$OUT"

say "bigselect: $ROWS rows, $SELECT_REPEAT runs per target (proxy pid $PROXY_PID)"
"$SYBENCH" bigselect -proxy "127.0.0.1:$BENCH_PROXY_PORT" -direct "127.0.0.1:$PRIMARY_PORT" \
	-user "$BENCH_USER" -pass "$BENCH_PASS" -direct-user "$DB_USER" -direct-pass "$DB_PASS" \
	-db bench -rows "$ROWS" -repeat "$SELECT_REPEAT" -pid "$PROXY_PID" | tee -a "$OUT"
echo | tee -a "$OUT"

# A fresh proxy, so that the idle measurement starts from a clean baseline.
proxy_start
say "idle: $IDLE_CONNS client connections (proxy pid $PROXY_PID)"
"$SYBENCH" idle -proxy "127.0.0.1:$BENCH_PROXY_PORT" -user "$BENCH_USER" -pass "$BENCH_PASS" \
	-n "$IDLE_CONNS" -pid "$PROXY_PID" -admin "127.0.0.1:$BENCH_ADMIN_PORT" \
	-admin-user "$ADMIN_USER" -admin-pass "$ADMIN_PASS" | tee -a "$OUT"

END_MS=$(now_ms)
echo | tee -a "$OUT"
echo "script took $(((END_MS - START_MS) / 1000))s" | tee -a "$OUT"
say "done; report: $OUT"
