#!/usr/bin/env bash
# scripts/test.sh - the test command of the repository.
#
#   scripts/test.sh [go test flags / packages...]
#
# 1. installs MariaDB and sysbench with apt-get if missing (when root),
# 2. checks gofmt, go vet and staticcheck (a pinned version, installed on
#    first use into ~/.cache/switchyard-tools),
# 3. starts a private MariaDB topology (3 slices x 1 replica) on
#    $SWITCHYARD_TEST_BASE_PORT (default 3310) in
#    ${TMPDIR:-/tmp}/switchyard-test-<port>, replacing one left over by an
#    earlier run (private topologies of internal/testtopo.StartPrivate go
#    under ...-private and are stopped at the end too),
# 4. runs `go test -race -count=1 -timeout 20m ./...` with
#    SWITCHYARD_TOPOLOGY set (extra arguments are passed to go test; if they
#    name packages, ./... is not added),
# 5. always tears the topology down, and exits with go test's status.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"

BASE_PORT=${SWITCHYARD_TEST_BASE_PORT:-3310}
TOPO_DIR=${TMPDIR:-/tmp}/switchyard-test-$BASE_PORT
TOPO=$REPO_ROOT/scripts/topology.sh
# internal/testtopo.StartPrivate creates its topologies under this directory;
# we stop whatever an interrupted or timed-out test left there.
PRIVATE_ROOT=$TOPO_DIR-private

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=/usr/local/go/bin:$PATH
fi

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'test.sh: error: %s\n' "$*" >&2
	exit 1
}

T_START=$(date +%s%3N)
T_PHASE=$T_START
TIMINGS=()
secs() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); } # ms -> "12.3"
phase_done() { # name
	local now
	now=$(date +%s%3N)
	TIMINGS+=("$(printf '%-10s %8ss' "$1" "$(secs $((now - T_PHASE)))")")
	say "$1 done in $(secs $((now - T_PHASE)))s"
	T_PHASE=$now
}
# shellcheck disable=SC2317 # called from the EXIT trap
print_timings() {
	local now t
	now=$(date +%s%3N)
	say "timings:"
	for t in "${TIMINGS[@]}"; do printf '    %s\n' "$t" >&2; done
	printf '    %-10s %8ss\n' total "$(secs $((now - T_START)))" >&2
}

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

# ---------------------------------------------------------------- tools
say "checking tools"
pkgs=()
if ! have mariadbd || ! have mariadb-install-db; then pkgs+=(mariadb-server); fi
if ! have mariadb || ! have mariadb-admin; then pkgs+=(mariadb-client); fi
if ! have sysbench; then pkgs+=(sysbench); fi
# go test -race needs cgo, hence a C compiler.
if ! have gcc; then pkgs+=(gcc libc6-dev); fi
# chromium: the web console's browser test (installed when root; the test skips without it).
if ! have chromium && [ "$(id -u)" = 0 ]; then pkgs+=(chromium); fi
# The clients of the client matrix (internal/integration/matrix_test.go,
# docs/clients.md); its tests skip a client that is missing, except in CI.
clients=()
for pkg in python3-pymysql python3-mysqldb python3-sqlalchemy python3-django libmariadb-java \
	default-jdk-headless php-cli php-mysql; do
	dpkg -s "$pkg" >/dev/null 2>&1 || clients+=("$pkg")
done
have node || clients+=(nodejs)
have npm || clients+=(npm)
if [ ${#pkgs[@]} -gt 0 ] || { [ ${#clients[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; }; then
	[ "$(id -u)" = 0 ] || die "missing packages: ${pkgs[*]} (apt-get install ${pkgs[*]})"
	say "installing ${pkgs[*]} ${clients[*]}"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${pkgs[@]}" "${clients[@]}"
elif [ ${#clients[@]} -gt 0 ]; then
	say "client matrix: not installed (its cells are skipped): ${clients[*]}"
fi
# The Debian package may start its own server (port 3306, /run/mysqld). It
# does not collide with our ports, but stop it to save memory. Only that
# instance is touched.
if [ "$(id -u)" = 0 ] && [ -s /run/mysqld/mysqld.pid ] &&
	kill -0 "$(cat /run/mysqld/mysqld.pid)" 2>/dev/null; then
	say "stopping the mariadb service started by the Debian package"
	service mariadb stop >/dev/null 2>&1 || true
fi
command -v go >/dev/null 2>&1 || die "go not found (expected in PATH or /usr/local/go/bin)"
phase_done tools

# ---------------------------------------------------------------- static checks
say "gofmt"
unformatted=$(gofmt -l . 2>&1) || die "gofmt failed: $unformatted"
if [ -n "$unformatted" ]; then
	printf '%s\n' "$unformatted" >&2
	die "gofmt: the files above are not formatted (run gofmt -w)"
fi
say "go vet ./..."
go vet ./...
# staticcheck at a pinned version, built once (through the Go module proxy)
# into a cache directory outside the repository.
STATICCHECK_VERSION=v0.6.1
sc_dir=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/switchyard-tools/staticcheck-$STATICCHECK_VERSION
if [ ! -x "$sc_dir/staticcheck" ]; then
	say "installing staticcheck $STATICCHECK_VERSION"
	mkdir -p "$sc_dir"
	tmp_bin=$(mktemp -d "$sc_dir.XXXXXX")
	GOBIN=$tmp_bin go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
	mv -f "$tmp_bin/staticcheck" "$sc_dir/staticcheck" # atomic: concurrent runs each move a whole binary
	rmdir "$tmp_bin"
fi
say "staticcheck ./..."
"$sc_dir/staticcheck" ./...
phase_done static

# ---------------------------------------------------------------- topology
stop_private() {
	local env
	[ -d "$PRIVATE_ROOT" ] || return 0
	for env in "$PRIVATE_ROOT"/*/topology.env; do
		[ -f "$env" ] || continue
		say "stopping leftover private topology $(dirname "$env")"
		"$TOPO" down --dir "$(dirname "$env")" >&2 || true
	done
	rm -rf "$PRIVATE_ROOT"
}
# shellcheck disable=SC2317 # the EXIT trap
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	say "tearing down topology in $TOPO_DIR"
	"$TOPO" down --dir "$TOPO_DIR" >&2 || rc=1
	stop_private
	phase_done teardown
	print_timings
	exit "$rc"
}
GO_PID=""
# shellcheck disable=SC2317 # signal traps
on_signal() { # exit-status
	if [ -n "$GO_PID" ]; then
		# go test runs in its own process group: stop it and the test binaries.
		kill -TERM -- "-$GO_PID" 2>/dev/null || true
		wait "$GO_PID" 2>/dev/null || true
	fi
	exit "$1"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

if [ -f "$TOPO_DIR/topology.env" ]; then
	say "removing topology left by an earlier run in $TOPO_DIR"
	"$TOPO" down --dir "$TOPO_DIR" >&2
fi
stop_private
say "starting topology (3 slices x 1 replica, base port $BASE_PORT) in $TOPO_DIR"
if ! "$TOPO" up --dir "$TOPO_DIR" --slices 3 --replicas 1 --base-port "$BASE_PORT"; then
	die "topology did not start (another topology on these ports? try SWITCHYARD_TEST_BASE_PORT=4310, or scripts/demo.sh down)"
fi
export SWITCHYARD_TOPOLOGY=$TOPO_DIR/topology.env
export SWITCHYARD_PRIVATE_TOPO_ROOT=$PRIVATE_ROOT
phase_done topology

# ---------------------------------------------------------------- go test
# Add ./... unless the caller named packages (arguments not starting with -,
# and not the value of a flag such as -run X: those follow a flag without =).
args=("$@")
has_pkg=0
prev_flag=""
for a in "${args[@]}"; do
	if [[ $a == -* ]]; then
		if [[ $a == *=* ]]; then prev_flag=""; else prev_flag=$a; fi
		continue
	fi
	case $prev_flag in
	-run | -skip | -bench | -benchtime | -count | -timeout | -cpu | -parallel | -tags | -coverprofile | \
		-coverpkg | -covermode | -cpuprofile | -memprofile | -blockprofile | -mutexprofile | -trace | \
		-outputdir | -exec | -p | -shuffle | -fuzz | -fuzztime | -fuzzminimizetime | -o | -ldflags | \
		-gcflags | -asmflags | -mod | -modfile | -overlay | -pkgdir | -toolexec | -vet | -list | -test.run)
		prev_flag=""
		continue
		;;
	esac
	prev_flag=""
	has_pkg=1
done
if [ "$has_pkg" = 0 ]; then
	args+=(./...)
fi

# Tests keep artefacts (the web console's screenshots) under this directory.
export SWITCHYARD_ARTIFACTS=${SWITCHYARD_ARTIFACTS:-${TMPDIR:-/tmp}/switchyard-artifacts}
say "go test -race -count=1 -timeout 20m ${args[*]}"
# In the background, in its own session and process group, so that a signal
# to this script (Ctrl-C, CI cancel) is handled at once: the trap kills the
# whole group, then tears everything down (including private topologies whose
# test cleanups never ran).
setsid go test -race -count=1 -timeout 20m "${args[@]}" &
GO_PID=$!
set +e
wait "$GO_PID"
status=$?
set -e
GO_PID=""
phase_done "go test"
if [ -d "$SWITCHYARD_ARTIFACTS" ]; then say "artefacts (screenshots) in $SWITCHYARD_ARTIFACTS"; fi
if [ "$status" = 0 ]; then say "PASS"; else say "FAIL (go test exit status $status)"; fi
exit "$status"
