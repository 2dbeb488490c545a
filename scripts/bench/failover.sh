#!/usr/bin/env bash
# scripts/bench/failover.sh - what Switchyard's clients see during failovers
# (docs/failover.md): builds cmd/failover-bench and runs every scenario.
#
#   scripts/bench/failover.sh                 # all scenarios, 3 runs each, about 5 minutes
#   REPEAT=1 scripts/bench/failover.sh        # one run each
#   BENCH_FAILOVER_SCENARIOS=killed,switchover scripts/bench/failover.sh
#   scripts/bench/failover.sh -max-replica-lag 1s   # extra arguments go to the tool
#
# Each scenario run starts its own topology (scripts/topology.sh, 1 slice:
# primary + 2 replicas on 127.0.0.1:BASE..BASE+2, in a temporary directory)
# and the proxy in-process, and tears both down at its end, also on Ctrl-C
# or `kill`. See cmd/failover-bench for what each scenario does.
#
# Environment (defaults in brackets):
#   REPEAT [3]                          runs per scenario (the table adds medians)
#   BENCH_FAILOVER_SCENARIOS [all]      comma-separated subset of
#                                       killed,frozen,switchover,replica,return
#   BENCH_FAILOVER_BASE_PORT [4610]     port of the topology's primary
#   BENCH_FAILOVER_INTERVAL [500ms]     the proxy's monitor.interval (= timeout)
#   BENCH_DIR [/tmp/switchyard-bench]   where the binary is built
#   BENCH_RESULTS [/tmp/switchyard-bench-results/DATE-failover]
#
# Output: the results table and the raw per-run lines on stdout, also in
# BENCH_RESULTS/failover.md (with the machine description); the proxy's log
# in BENCH_RESULTS/proxy.log.
set -euo pipefail

BENCH_PROG=bench-failover
BENCH_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$BENCH_SCRIPT_DIR/lib.sh"

REPEAT=${REPEAT:-3}
SCENARIOS=${BENCH_FAILOVER_SCENARIOS:-all}
BASE_PORT=${BENCH_FAILOVER_BASE_PORT:-4610}
INTERVAL=${BENCH_FAILOVER_INTERVAL:-500ms}
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "REPEAT must be a positive whole number, got '$REPEAT'"
[[ $BASE_PORT =~ ^[1-9][0-9]*$ ]] || die "BENCH_FAILOVER_BASE_PORT must be a port, got '$BASE_PORT'"

bench_need go mariadb mariadbd flock
mkdir -p "$BENCH_DIR"
LOCK=$BENCH_DIR-failover.lock
exec 9>"$LOCK"
flock -n 9 || die "another failover benchmark holds $LOCK"
bench_results failover
BIN=$BENCH_DIR/failover-bench
OUT=$BENCH_RESULTS/failover.md

START_MS=$(now_ms)
say "building $BIN"
(cd "$REPO_ROOT" && go build -o "$BIN" ./cmd/failover-bench)

CMD=(-scenarios "$SCENARIOS" -repeat "$REPEAT" -base-port "$BASE_PORT" -interval "$INTERVAL" "$@")
{
	echo "# Switchyard failover benchmark"
	echo
	echo "command: REPEAT=$REPEAT BENCH_FAILOVER_SCENARIOS=$SCENARIOS BENCH_FAILOVER_BASE_PORT=$BASE_PORT BENCH_FAILOVER_INTERVAL=$INTERVAL scripts/bench/failover.sh $*"
	echo "runs: failover-bench ${CMD[*]}"
	echo
	machine_info | sed 's/^/    /'
	echo "    load average: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
} | tee "$OUT"

# The tool tears its topology down on SIGINT/SIGTERM: pass them on and wait.
PID=
# shellcheck disable=SC2317 # signal trap
on_signal() {
	if [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null; then
		wait "$PID" || true
	fi
	rm -f "$BIN"
	exit 130
}
trap on_signal INT TERM
# 9>&-: neither the tool nor the servers it starts hold the lock.
"$BIN" "${CMD[@]}" -proxy-log "$BENCH_RESULTS/proxy.log" > >(tee -a "$OUT") 2>&1 9>&- &
PID=$!
rc=0
wait "$PID" || rc=$?
PID=
trap - INT TERM
rm -f "$BIN"

END_MS=$(now_ms)
echo "script took $(((END_MS - START_MS) / 1000))s" | tee -a "$OUT"
say "done (exit $rc); report: $OUT"
exit "$rc"
