#!/usr/bin/env bash
# scripts/bench/sysbench.sh - sysbench through Switchyard vs. directly against
# MariaDB, like for like, on a private local topology (see docs/benchmarks.md).
#
#   scripts/bench/sysbench.sh
#   BENCH_TIME=5 REPEAT=1 scripts/bench/sysbench.sh      # quick trial
#
# Starts 1 slice (primary + replica) with scripts/topology.sh on
# BENCH_BASE_PORT (default 4510), builds and starts the proxy on
# BENCH_PROXY_PORT (default 14506), prepares the sysbench tables on the
# primary and runs, interleaved (direct, proxy, direct, proxy, ...), every
# test x --db-ps-mode, REPEAT times each: direct = primary as proxy/proxy,
# proxy = Switchyard as `bench` (rw_split false: everything on the primary).
# A last pair of runs uses `benchrw` (rw_split true) on oltp_read_only with
# --skip_trx=on, so the SELECTs run outside transactions and go to the replica.
#
# Environment (defaults in brackets; see also scripts/bench/lib.sh):
#   BENCH_TIME [20]        seconds per run
#   REPEAT [2]             runs per test, ps-mode and target (median reported)
#   BENCH_THREADS [8]      sysbench --threads
#   BENCH_TABLES [4]       sysbench --tables
#   BENCH_TABLE_SIZE [100000]  sysbench --table-size
#   BENCH_TESTS ["oltp_point_select oltp_read_only oltp_read_write"]
#   BENCH_PS_MODES ["auto disable"]
#   BENCH_WARMUP [5]       seconds of unrecorded warm-up, direct and proxy (0 = none)
#   BENCH_SPLIT [1]        0 skips the benchrw (read/write split) runs
#
# Output: the markdown table on stdout (also BENCH_RESULTS/table.md), one
# line per run in BENCH_RESULTS/runs.log, every sysbench output in
# BENCH_RESULTS/runs/, the machine in BENCH_RESULTS/machine.txt.
set -euo pipefail

BENCH_PROG=bench-sysbench
BENCH_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$BENCH_SCRIPT_DIR/lib.sh"

TIME=${BENCH_TIME:-20}
REPEAT=${REPEAT:-2}
THREADS=${BENCH_THREADS:-8}
TABLES=${BENCH_TABLES:-4}
TABLE_SIZE=${BENCH_TABLE_SIZE:-100000}
read -r -a TESTS <<<"${BENCH_TESTS:-oltp_point_select oltp_read_only oltp_read_write}"
read -r -a PS_MODES <<<"${BENCH_PS_MODES:-auto disable}"
WARMUP=${BENCH_WARMUP:-5}
SPLIT=${BENCH_SPLIT:-1}
HZ=$(getconf CLK_TCK)

for v in TIME REPEAT THREADS TABLES TABLE_SIZE WARMUP; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, got '${!v}'"
done
if [ "$REPEAT" -lt 1 ] || [ "$TIME" -lt 1 ]; then
	die "REPEAT and BENCH_TIME must be at least 1"
fi

SB_COMMON=(
	--db-driver=mysql --mysql-host=127.0.0.1 --mysql-db=sbtest
	--tables="$TABLES" --table-size="$TABLE_SIZE"
	--percentile=95 --report-interval=0 --histogram=off
)

# The sysbench output's numbers: queries qps tps p95_ms ignored_errors.
parse_sb() { # file
	awk '
	/^ *transactions:/ { tps = $3; gsub(/\(/, "", tps) }
	/^ *queries:/ { q = $2; qps = $3; gsub(/\(/, "", qps) }
	/^ *ignored errors:/ { e = $3 }
	/95th percentile:/ { p95 = $3 }
	END { printf "%d %s %s %s %d\n", q, qps + 0, tps + 0, p95 + 0, e }' "$1"
}

# CPU µs per query: user, system, total, from two "utime stime" readings.
per_query() { # "u0 s0" "u1 s1" queries
	awk -v a="$1" -v b="$2" -v q="$3" -v hz="$HZ" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		if (q <= 0) { print "nan nan nan"; exit }
		u = (y[1] - x[1]) * 1e6 / hz / q; s = (y[2] - x[2]) * 1e6 / hz / q
		printf "%.2f %.2f %.2f\n", u, s, u + s }'
}

# MariaDB's Questions and Connections counters: "questions connections".
server_counters() { # port
	sql_root "$1" "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Connections')" |
		awk '$1 == "Questions" { q = $2 } $1 == "Connections" { c = $2 } END { print q + 0, c + 0 }'
}

# Server statements per client query and new server connections (the
# status query and its connection in between are not counted).
server_delta() { # "q0 c0" "q1 c1" queries
	awk -v a="$1" -v b="$2" -v q="$3" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		printf "%s %d\n", (q > 0 ? sprintf("%.3f", (y[1] - x[1] - 1) / q) : "nan"), y[2] - x[2] - 1 }'
}

RUN_N=0
FAILED=0

# sb_run LABEL TARGET TEST PS REP [sysbench args]: one recorded run.
# TARGET: direct (primary, proxy/proxy), proxy (bench), split (benchrw).
sb_run() {
	local label=$1 target=$2 test=$3 ps=$4 rep=$5
	shift 5
	local port user pass out rc=0 t0 t1
	case $target in
	direct) port=$PRIMARY_PORT user=$DB_USER pass=$DB_PASS ;;
	proxy) port=$BENCH_PROXY_PORT user=$BENCH_USER pass=$BENCH_PASS ;;
	split) port=$BENCH_PROXY_PORT user=$BENCHRW_USER pass=$BENCHRW_PASS ;;
	*) die "unknown target $target" ;;
	esac
	RUN_N=$((RUN_N + 1))
	out=$BENCH_RESULTS/runs/$(printf %03d "$RUN_N")-$label-$ps-$target-$rep.txt
	local px0 px1 db0 db1 rp0 rp1 sc0 sc1 rc0 rc1
	sc0=$(server_counters "$PRIMARY_PORT")
	rc0=$(server_counters "$REPLICA_PORT")
	px0=$(cpu_ticks "$PROXY_PID")
	db0=$(cpu_ticks "$PRIMARY_PID")
	rp0=$(cpu_ticks "$REPLICA_PID")
	t0=$(now_ms)
	sysbench "$test" "${SB_COMMON[@]}" --mysql-port="$port" --mysql-user="$user" --mysql-password="$pass" \
		--threads="$THREADS" --time="$TIME" --db-ps-mode="$ps" "$@" run >"$out" 2>&1 || rc=$?
	t1=$(now_ms)
	px1=$(cpu_ticks "$PROXY_PID")
	db1=$(cpu_ticks "$PRIMARY_PID")
	rp1=$(cpu_ticks "$REPLICA_PID")
	sc1=$(server_counters "$PRIMARY_PORT")
	rc1=$(server_counters "$REPLICA_PORT")

	local q qps tps p95 errs pu ps_ pt du ds dt ru rs rt
	read -r q qps tps p95 errs < <(parse_sb "$out")
	read -r pu ps_ pt < <(per_query "$px0" "$px1" "$q")
	read -r du ds dt < <(per_query "$db0" "$db1" "$q")
	read -r ru rs rt < <(per_query "$rp0" "$rp1" "$q")
	local dstmt dconn rstmt rconn
	read -r dstmt dconn < <(server_delta "$sc0" "$sc1" "$q")
	read -r rstmt rconn < <(server_delta "$rc0" "$rc1" "$q")
	if [ "$target" = direct ]; then pu=- ps_=- pt=-; fi
	if [ "$rc" != 0 ] || [ "$q" = 0 ] || grep -q FATAL "$out"; then
		FAILED=$((FAILED + 1))
		say "run $RUN_N FAILED (exit $rc), see $out:"
		tail -n 5 "$out" >&2
		[ "$rc" != 0 ] || rc=1
	fi
	printf 'label=%s test=%s ps=%s target=%s rep=%d rc=%d queries=%d qps=%s tps=%s p95_ms=%s errors=%d proxy_user_us=%s proxy_sys_us=%s proxy_us=%s db_user_us=%s db_sys_us=%s db_us=%s replica_user_us=%s replica_sys_us=%s replica_us=%s db_stmt_per_q=%s db_new_conns=%d replica_stmt_per_q=%s replica_new_conns=%d wall_ms=%d extra=%s\n' \
		"$label" "$test" "$ps" "$target" "$rep" "$rc" "$q" "$qps" "$tps" "$p95" "$errs" "$pu" "$ps_" "$pt" "$du" "$ds" "$dt" "$ru" "$rs" "$rt" \
		"$dstmt" "$dconn" "$rstmt" "$rconn" "$((t1 - t0))" "$(
			IFS=,
			echo "${*:-none}"
		)" >>"$BENCH_RESULTS/runs.log"
	say "$(printf '%-22s %-7s %-6s #%d  qps %9s  p95 %6s ms  errors %d  proxy %s µs/q  mariadb %s µs/q' \
		"$label" "$ps" "$target" "$rep" "$qps" "$p95" "$errs" "$pt" "$dt")"
	# Writes replicate: let the replica catch up so it does not steal CPU
	# from the next run.
	wait_replica
}

# Sum of switchyard_queries_total samples whose labels match a regex.
queries_metric() { # label-regex
	{ curl -fsS "http://127.0.0.1:$BENCH_ADMIN_PORT/metrics" || true; } |
		awk -v re="$1" '/^switchyard_queries_total\{/ && $0 ~ re { s += $NF } END { printf "%.0f\n", s }'
}

# The markdown tables from runs.log (medians of the repeats).
summarize() {
	awk -v split_share="${SPLIT_SHARE:-n/a}" '
	function median(key, field,    n, i, j, v, t) {
		n = cnt[key]
		if (n == 0) return ""
		for (i = 1; i <= n; i++) v[i] = val[key, field, i]
		for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
		if (n % 2) return v[(n + 1) / 2]
		return (v[n / 2] + v[n / 2 + 1]) / 2
	}
	function f(x, fmt) { return (x == "" || x == "-" || x == "nan") ? "-" : sprintf(fmt, x) }
	{
		delete r
		for (i = 1; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); r[k] = v }
		g = r["label"] SUBSEP r["ps"]
		key = g SUBSEP r["target"]
		if (!(g in seen)) { seen[g] = 1; order[++ng] = g }
		n = ++cnt[key]
		for (k in r) val[key, k, n] = r[k]
		errs[key] += r["errors"]
		if (r["rc"] != 0) fails[key]++
	}
	END {
		print "| test | ps-mode | direct QPS | proxy QPS | proxy/direct | direct p95 ms | proxy p95 ms | proxy CPU µs/query (user+sys) | MariaDB CPU µs/query direct | MariaDB CPU µs/query via proxy | MariaDB statements per query direct/proxy | errors direct/proxy |"
		print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for (o = 1; o <= ng; o++) {
			g = order[o]; split(g, gp, SUBSEP)
			d = g SUBSEP "direct"; p = g SUBSEP "proxy"
			if (!cnt[p]) continue
			dq = median(d, "qps"); pq = median(p, "qps")
			printf "| %s | %s | %s | %s | %s | %s | %s | %s (%s+%s) | %s | %s | %s/%s | %d/%d%s |\n", gp[1], gp[2],
				f(dq, "%.0f"), f(pq, "%.0f"), (dq > 0 ? sprintf("%.3f", pq / dq) : "-"),
				f(median(d, "p95_ms"), "%.2f"), f(median(p, "p95_ms"), "%.2f"),
				f(median(p, "proxy_us"), "%.1f"), f(median(p, "proxy_user_us"), "%.1f"), f(median(p, "proxy_sys_us"), "%.1f"),
				f(median(d, "db_us"), "%.1f"), f(median(p, "db_us"), "%.1f"),
				f(median(d, "db_stmt_per_q"), "%.2f"), f(median(p, "db_stmt_per_q"), "%.2f"),
				errs[d], errs[p], (fails[d] + fails[p] ? sprintf(" (%d runs failed)", fails[d] + fails[p]) : "")
		}
		for (o = 1; o <= ng; o++) {
			g = order[o]; split(g, gp, SUBSEP)
			d = g SUBSEP "direct"; s = g SUBSEP "split"
			if (!cnt[s]) continue
			print ""
			print "Read/write split (user `benchrw`, rw_split true; sysbench --skip_trx=on so the SELECTs run outside transactions), for information:"
			print ""
			print "| test | ps-mode | direct QPS (primary) | proxy QPS (benchrw) | proxy/direct | direct p95 ms | proxy p95 ms | proxy CPU µs/query (user+sys) | primary CPU µs/query | replica CPU µs/query | statements routed to the replica | errors direct/proxy |"
			print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
			dq = median(d, "qps"); sq = median(s, "qps")
			printf "| %s | %s | %s | %s | %s | %s | %s | %s (%s+%s) | %s | %s | %s | %d/%d%s |\n", gp[1], gp[2],
				f(dq, "%.0f"), f(sq, "%.0f"), (dq > 0 ? sprintf("%.3f", sq / dq) : "-"),
				f(median(d, "p95_ms"), "%.2f"), f(median(s, "p95_ms"), "%.2f"),
				f(median(s, "proxy_us"), "%.1f"), f(median(s, "proxy_user_us"), "%.1f"), f(median(s, "proxy_sys_us"), "%.1f"),
				f(median(s, "db_us"), "%.1f"), f(median(s, "replica_us"), "%.1f"), split_share,
				errs[d], errs[s], (fails[d] + fails[s] ? sprintf(" (%d runs failed)", fails[d] + fails[s]) : "")
		}
	}' "$BENCH_RESULTS/runs.log"
}

# ---------------------------------------------------------------- main

bench_need sysbench awk
START_MS=$(now_ms)
bench_setup sysbench
mkdir -p "$BENCH_RESULTS/runs"
: >"$BENCH_RESULTS/runs.log"
PRIMARY_PID=$(mariadb_pid "$PRIMARY_PORT")
REPLICA_PID=$(mariadb_pid "$REPLICA_PORT")

runs=$((${#TESTS[@]} * ${#PS_MODES[@]} * REPEAT * 2))
[ "$SPLIT" = 1 ] && runs=$((runs + REPEAT * 2))
say "plan: $runs runs of ${TIME}s (${THREADS} threads, $TABLES tables x $TABLE_SIZE rows), about $(((runs * TIME + 2 * WARMUP) / 60 + 1)) min; results in $BENCH_RESULTS"

say "preparing sysbench tables on the primary :$PRIMARY_PORT"
sql_root "$PRIMARY_PORT" "DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest"
prep_threads=$(nproc)
[ "$prep_threads" -le "$TABLES" ] || prep_threads=$TABLES
sysbench oltp_read_write "${SB_COMMON[@]}" --mysql-port="$PRIMARY_PORT" --mysql-user="$DB_USER" \
	--mysql-password="$DB_PASS" --threads="$prep_threads" prepare >"$BENCH_RESULTS/prepare.txt" 2>&1 ||
	{
		tail -n 20 "$BENCH_RESULTS/prepare.txt" >&2
		die "sysbench prepare failed"
	}
wait_replica

if [ "$WARMUP" -gt 0 ]; then
	say "warm-up: ${WARMUP}s direct and ${WARMUP}s through the proxy (not recorded)"
	for port_user in "$PRIMARY_PORT $DB_USER $DB_PASS" "$BENCH_PROXY_PORT $BENCH_USER $BENCH_PASS"; do
		read -r wp wu wpw <<<"$port_user"
		sysbench oltp_read_only "${SB_COMMON[@]}" --mysql-port="$wp" --mysql-user="$wu" --mysql-password="$wpw" \
			--threads="$THREADS" --time="$WARMUP" run >"$BENCH_RESULTS/warmup-$wp.txt" 2>&1 ||
			die "warm-up on :$wp failed (see $BENCH_RESULTS/warmup-$wp.txt)"
	done
fi

for test in "${TESTS[@]}"; do
	for ps in "${PS_MODES[@]}"; do
		for ((rep = 1; rep <= REPEAT; rep++)); do
			sb_run "$test" direct "$test" "$ps" "$rep"
			sb_run "$test" proxy "$test" "$ps" "$rep"
		done
	done
done

if [ "$SPLIT" = 1 ]; then
	r0=$(queries_metric 'route="replica"')
	a0=$(queries_metric 'namespace="bench"')
	for ((rep = 1; rep <= REPEAT; rep++)); do
		sb_run oltp_read_only+skip_trx direct oltp_read_only auto "$rep" --skip_trx=on
		sb_run oltp_read_only+skip_trx split oltp_read_only auto "$rep" --skip_trx=on
	done
	r1=$(queries_metric 'route="replica"')
	a1=$(queries_metric 'namespace="bench"')
	SPLIT_SHARE=$(awk -v r=$((r1 - r0)) -v a=$((a1 - a0)) 'BEGIN { printf (a > 0 ? "%.1f%%" : "n/a"), (a > 0 ? 100 * r / a : 0) }')
fi

END_MS=$(now_ms)
{
	echo "# sysbench: direct vs. through Switchyard"
	echo
	echo "command: BENCH_TIME=$TIME REPEAT=$REPEAT BENCH_THREADS=$THREADS BENCH_TABLES=$TABLES BENCH_TABLE_SIZE=$TABLE_SIZE scripts/bench/sysbench.sh"
	echo "sysbench: --threads=$THREADS --time=$TIME --tables=$TABLES --table-size=$TABLE_SIZE; medians of $REPEAT run(s); script took $(((END_MS - START_MS) / 1000))s"
	echo
	sed 's/^/    /' "$BENCH_RESULTS/machine.txt"
	echo
	summarize
} >"$BENCH_RESULTS/table.md"
cat "$BENCH_RESULTS/table.md"
say "done in $(((END_MS - START_MS) / 1000))s; raw runs: $BENCH_RESULTS/runs.log"
[ "$FAILED" = 0 ] || die "$FAILED run(s) failed"
