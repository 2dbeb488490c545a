#!/usr/bin/env bash
# scripts/randtest.sh - run the random differential tester for a long time
# with random seeds (see docs/testing.md).
#
#   scripts/randtest.sh [DURATION]      # default 1h; e.g. 30m, 8h
#
# Environment:
#   SWITCHYARD_TEST_BASE_PORT  topology base port (default 3410)
#   RANDTEST_FEATURES          ci | all | list (default all)
#   RANDTEST_STATEMENTS        statements per seed (default 5000)
#   RANDTEST_FINDINGS          file receiving shrunk failures
#                              (default randtest-findings.txt)
#
# It starts a private MariaDB topology (3 slices x 1 replica), runs
# TestRandomDifferential again and again with fresh random seeds until the
# duration is used up, appends every shrunk failure to the findings file
# (in the format of internal/randtest/testdata/regressions.txt) and tears the
# topology down. It exits non-zero when anything failed.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=/usr/local/go/bin:$PATH
fi

DURATION=${1:-1h}
BASE_PORT=${SWITCHYARD_TEST_BASE_PORT:-3410}
TOPO_DIR=${TMPDIR:-/tmp}/switchyard-randtest-$BASE_PORT
WORK=${TMPDIR:-/tmp}/switchyard-randtest-$BASE_PORT-work
FINDINGS=${RANDTEST_FINDINGS:-$REPO_ROOT/randtest-findings.txt}
export RANDTEST_FEATURES=${RANDTEST_FEATURES:-all}
export RANDTEST_STATEMENTS=${RANDTEST_STATEMENTS:-5000}
export RANDTEST_RECORD=$FINDINGS

to_secs() { # 90s | 30m | 8h | 100
	case $1 in
	*h) echo $((${1%h} * 3600)) ;;
	*m) echo $((${1%m} * 60)) ;;
	*s) echo "${1%s}" ;;
	*) echo "$1" ;;
	esac
}
END=$(($(date +%s) + $(to_secs "$DURATION")))

if [ -f "$TOPO_DIR/topology.env" ]; then
	scripts/topology.sh down --dir "$TOPO_DIR" >&2 || true
fi
scripts/topology.sh up --dir "$TOPO_DIR" --slices 3 --replicas 1 --base-port "$BASE_PORT" >&2
trap 'scripts/topology.sh down --dir "$TOPO_DIR" >&2 || true' EXIT
export SWITCHYARD_TOPOLOGY=$TOPO_DIR/topology.env

mkdir -p "$WORK"
go test -c -o "$WORK/integration.test" ./internal/integration
runs=0
failed=0
while [ "$(date +%s)" -lt "$END" ]; do
	left=$((END - $(date +%s)))
	seeds="$RANDOM$RANDOM,$RANDOM$RANDOM,$RANDOM$RANDOM"
	echo "==> seeds $seeds ($left s left)" >&2
	rc=0
	(cd internal/integration && RANDTEST_SEEDS=$seeds RANDTEST_DURATION=${left}s \
		"$WORK/integration.test" -test.run '^TestRandomDifferential$' -test.count=1 -test.timeout=0 -test.v \
		>"$WORK/last.log" 2>&1) || rc=$?
	grep -E 'random differential|^\s+refused|randtest_test.go:[0-9]+: seed|shrunk:|passes now|^(FAIL|ok|PASS)' "$WORK/last.log" >&2 || true
	if ! grep -q 'random differential' "$WORK/last.log"; then
		cat "$WORK/last.log" >&2
		echo "randtest.sh: the test did not run (see above)" >&2
		exit 1
	fi
	if [ "$rc" != 0 ]; then
		failed=$((failed + 1))
		cp "$WORK/last.log" "$FINDINGS.run$runs.log"
	fi
	runs=$((runs + 1))
done
echo "==> $runs runs, $failed with failures; findings in $FINDINGS" >&2
[ "$failed" = 0 ]
