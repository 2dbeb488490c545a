#!/usr/bin/env bash
# scripts/bench/router.sh - the router's benchmarks at two revisions,
# interleaved so that other load on the machine hits both alike
# (docs/benchmarks.md "Router cost"):
#
#   scripts/bench/router.sh 3e3697d            # against the working tree
#   ROUNDS=5 scripts/bench/router.sh 3e3697d main
#
# Each revision is exported (git archive) into a temporary directory and its
# router test binary built once. Every round runs each benchmark twice per
# revision, alternating revisions benchmark by benchmark, one process per
# sample with a fixed iteration count. Besides ns/op (wall time) each line
# carries cpu-ns/op: the process's CPU time (all threads, GC included; from
# perf stat when it is installed) divided by the iterations, which other
# load disturbs less than wall time. Output: OUT/old.txt and OUT/new.txt in
# benchstat's format, and benchstat's comparison when benchstat is in PATH.
#
# Environment: ROUNDS [5], OUT [/tmp/switchyard-router-bench], BENCHES
# [AnalyzePointSelect ShardedPointSelect ShardedInsert ScatterPlan
# ShardedPointSelectTyped], ITERS [200000; ScatterPlan a quarter].
set -euo pipefail

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=/usr/local/go/bin:$PATH
fi
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OLD=${1:?usage: scripts/bench/router.sh OLD_REV [NEW_REV]}
NEW=${2:-}
ROUNDS=${ROUNDS:-5}
OUT=${OUT:-/tmp/switchyard-router-bench}
BENCHES=${BENCHES:-AnalyzePointSelect ShardedPointSelect ShardedInsert ScatterPlan ShardedPointSelectTyped}
ITERS=${ITERS:-200000}

say() { printf 'bench-router: %s\n' "$*" >&2; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"

# build NAME REV: the router test binary of REV (the working tree when REV
# is empty) in $WORK/NAME.
build() {
	local dir=$WORK/$1-src
	mkdir -p "$dir"
	if [ -z "$2" ]; then
		(cd "$REPO_ROOT" && tar -cf - --exclude=.git .) | tar -xf - -C "$dir"
	else
		git -C "$REPO_ROOT" archive "$2" | tar -xf - -C "$dir"
	fi
	(cd "$dir" && go test -c -o "$WORK/$1.test" ./internal/router)
	say "built $1 (${2:-working tree})"
}
build old "$OLD"
build new "$NEW"

have_perf=0
if command -v perf >/dev/null 2>&1 && perf stat -e task-clock -x, true >/dev/null 2>&1; then
	have_perf=1
fi

# sample NAME BENCH N: one benchmark line with cpu-ns/op added.
sample() {
	local res ms
	if ! (cd "$WORK/$1-src/internal/router" && "$WORK/$1.test" -test.list "^Benchmark$2\$" | grep -q .); then
		return 0 # the revision does not have this benchmark
	fi
	if [ "$have_perf" = 1 ]; then
		res=$(cd "$WORK/$1-src/internal/router" && perf stat -e task-clock -x, "$WORK/$1.test" -test.run XXX \
			-test.bench "^Benchmark$2\$" -test.benchtime "${3}x" -test.benchmem 2>&1)
		ms=$(awk -F, '/task-clock/ {print $1}' <<<"$res")
		awk -v ms="$ms" -v n="$3" '/^Benchmark/ {printf "%s %s %s ns/op %.1f cpu-ns/op %s B/op %s allocs/op\n", $1, $2, $3, ms*1e6/n, $5, $7}' <<<"$res"
	else
		(cd "$WORK/$1-src/internal/router" && "$WORK/$1.test" -test.run XXX -test.bench "^Benchmark$2\$" \
			-test.benchtime "${3}x" -test.benchmem | grep '^Benchmark')
	fi
}

for v in old new; do
	printf 'goos: %s\ngoarch: %s\npkg: github.com/switchyard-db/switchyard/internal/router\n' "$(go env GOOS)" "$(go env GOARCH)" >"$OUT/$v.txt"
done
for ((r = 1; r <= ROUNDS; r++)); do
	for b in $BENCHES; do
		n=$ITERS
		[ "$b" = ScatterPlan ] && n=$((ITERS / 4))
		for _ in 1 2; do
			for v in old new; do
				sample "$v" "$b" "$n" >>"$OUT/$v.txt"
			done
		done
	done
	say "round $r of $ROUNDS done (load $(cut -d' ' -f1 /proc/loadavg))"
done
if command -v benchstat >/dev/null 2>&1; then
	benchstat "$OUT/old.txt" "$OUT/new.txt"
else
	say "results in $OUT/old.txt and $OUT/new.txt (go install golang.org/x/perf/cmd/benchstat@latest)"
fi
