// Package testtopo gives integration tests access to the real MariaDB topology started by scripts/topology.sh.
//
// The shared topology is named by $SWITCHYARD_TOPOLOGY (the path of its
// topology.env, printed by `scripts/topology.sh env`; scripts/test.sh sets
// it). Tests of different packages run concurrently against the same
// servers, so every test must use its own database names (e.g. with a
// unique suffix) and clean up after itself. Never write on a replica, not even
// as root: it creates a GTID in the slice's domain that the primary does not
// have, and gtid_strict_mode then stops replication.
//
// Destructive tests (failover, stopping servers) use StartPrivate, which runs
// a separate topology for the calling test only.
package testtopo

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// EnvVar names the environment variable holding the path of topology.env.
const EnvVar = "SWITCHYARD_TOPOLOGY"

// PrivateRootEnvVar optionally names a directory under which StartPrivate
// creates its topologies (instead of t.TempDir()).
const PrivateRootEnvVar = "SWITCHYARD_PRIVATE_TOPO_ROOT"

// Node is one MariaDB server.
type Node struct {
	Slice string
	Role  string // "primary" | "replica"
	Addr  string // 127.0.0.1:port
	Port  int
}

// Slice is a primary and its replicas.
type Slice struct {
	Name     string
	Primary  Node
	Replicas []Node
}

// Topology describes a running topology.
type Topology struct {
	Dir    string
	Slices []Slice

	RootUser, RootPassword       string
	BackendUser, BackendPassword string // the proxy's backend account: no READ_ONLY ADMIN
	ReplUser, ReplPassword       string // replication account

	EnvFile  string // path of the topology.env this was loaded from
	BasePort int
}

// Nodes returns every node, slice by slice, primary first.
func (tp *Topology) Nodes() []Node {
	var out []Node
	for _, s := range tp.Slices {
		out = append(out, s.Primary)
		out = append(out, s.Replicas...)
	}
	return out
}

// Slice returns the slice with the given name.
func (tp *Topology) Slice(name string) (Slice, bool) {
	for _, s := range tp.Slices {
		if s.Name == name {
			return s, true
		}
	}
	return Slice{}, false
}

// Require returns the topology named by $SWITCHYARD_TOPOLOGY (path of topology.env). If unset: t.Skip with a clear message, unless $CI == "true", where it calls t.Fatal.
func Require(t testing.TB) *Topology {
	t.Helper()
	path := os.Getenv(EnvVar)
	if path == "" {
		msg := "integration test needs a MariaDB topology: $" + EnvVar + " is not set " +
			"(run scripts/test.sh, or `scripts/topology.sh up && eval \"$(scripts/topology.sh env)\"`)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	tp, err := Load(path)
	if err != nil {
		t.Fatalf("testtopo: $%s: %v (is the topology up? scripts/topology.sh status)", EnvVar, err)
	}
	return tp
}

// Load parses a topology.env file.
func Load(path string) (*Topology, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	kv := map[string]string{}
	sc := bufio.NewScanner(f)
	for line := 0; sc.Scan(); {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		s = strings.TrimPrefix(s, "export ")
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: expected KEY=VALUE, got %q", path, line, s)
		}
		k = strings.TrimSpace(k)
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		kv[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}

	num := func(key string, min, max int) (int, error) {
		v, ok := kv[key]
		if !ok {
			return 0, fmt.Errorf("%s: missing %s", path, key)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			return 0, fmt.Errorf("%s: %s=%q: want an integer in [%d, %d]", path, key, v, min, max)
		}
		return n, nil
	}
	str := func(key, def string) string {
		if v, ok := kv[key]; ok && v != "" {
			return v
		}
		return def
	}

	slices, err := num("SLICES", 1, 100)
	if err != nil {
		return nil, err
	}
	replicas, err := num("REPLICAS", 0, 9)
	if err != nil {
		return nil, err
	}
	base, err := num("BASE_PORT", 1, 65535)
	if err != nil {
		return nil, err
	}
	if last := base + 10*(slices-1) + replicas; last > 65535 {
		return nil, fmt.Errorf("%s: ports up to %d are out of range", path, last)
	}

	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	tp := &Topology{
		Dir:             str("DIR", filepath.Dir(abs)),
		RootUser:        str("ROOT_USER", "root"),
		RootPassword:    str("ROOT_PASSWORD", "root"),
		BackendUser:     str("BACKEND_USER", "proxy"),
		BackendPassword: str("BACKEND_PASSWORD", "proxy"),
		ReplUser:        str("REPL_USER", "repl"),
		ReplPassword:    str("REPL_PASSWORD", "repl"),
		EnvFile:         abs,
		BasePort:        base,
	}
	host := str("HOST", "127.0.0.1")
	node := func(slice, role string, port int) Node {
		return Node{Slice: slice, Role: role, Addr: net.JoinHostPort(host, strconv.Itoa(port)), Port: port}
	}
	for i := 0; i < slices; i++ {
		name := "s" + strconv.Itoa(i)
		p := base + 10*i
		s := Slice{Name: name, Primary: node(name, "primary", p)}
		for j := 1; j <= replicas; j++ {
			s.Replicas = append(s.Replicas, node(name, "replica", p+j))
		}
		tp.Slices = append(tp.Slices, s)
	}
	return tp, nil
}

func (tp *Topology) open(n Node, user, password, db string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User = user
	cfg.Passwd = password
	cfg.Net = "tcp"
	cfg.Addr = n.Addr
	cfg.DBName = db
	cfg.MultiStatements = true
	cfg.InterpolateParams = false
	cfg.Timeout = 10 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	d := sql.OpenDB(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := d.PingContext(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("%s %s as %s: %w", n.Role, n.Addr, user, err)
	}
	return d, nil
}

// OpenDB opens a *sql.DB to a node as the given user (multiStatements=true,
// interpolateParams=false), pings it and registers t.Cleanup to close it.
func (tp *Topology) OpenDB(t testing.TB, n Node, user, password, db string) *sql.DB {
	t.Helper()
	d, err := tp.open(n, user, password, db)
	if err != nil {
		t.Fatalf("testtopo: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// RootDB opens a *sql.DB (github.com/go-sql-driver/mysql, already in go.mod) to a node as root, with the given database ("" for none), multiStatements=true, interpolateParams=false.
// It registers t.Cleanup to close it.
func (tp *Topology) RootDB(t testing.TB, n Node, db string) *sql.DB {
	t.Helper()
	return tp.OpenDB(t, n, tp.RootUser, tp.RootPassword, db)
}

// BackendDB is like RootDB, as the proxy's backend user.
func (tp *Topology) BackendDB(t testing.TB, n Node, db string) *sql.DB {
	t.Helper()
	return tp.OpenDB(t, n, tp.BackendUser, tp.BackendPassword, db)
}

// Exec runs statements as root on a node, failing the test on error.
// All statements run in order on one connection, so session state (USE,
// SET) carries over from one to the next.
func (tp *Topology) Exec(t testing.TB, n Node, stmts ...string) {
	t.Helper()
	d, err := tp.open(n, tp.RootUser, tp.RootPassword, "")
	if err != nil {
		t.Fatalf("testtopo: %v", err)
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, err := d.Conn(ctx)
	if err != nil {
		t.Fatalf("testtopo: %s: %v", n.Addr, err)
	}
	defer conn.Close()
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatalf("testtopo: %s %s: %q: %v", n.Role, n.Addr, s, err)
		}
	}
}

// WaitReplicas blocks until every replica of every slice has caught up with its primary's gtid_binlog_pos (MASTER_GTID_WAIT on the replica with the primary's @@gtid_binlog_pos, timeout 10s), failing the test otherwise.
func (tp *Topology) WaitReplicas(t testing.TB) {
	t.Helper()
	if err := tp.waitReplicas(10); err != nil {
		t.Fatalf("testtopo: %v", err)
	}
}

func (tp *Topology) waitReplicas(timeoutSec int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeoutSec+20)*time.Second)
	defer cancel()
	for _, s := range tp.Slices {
		if len(s.Replicas) == 0 {
			continue
		}
		pos, err := tp.queryString(ctx, s.Primary, "SELECT @@gtid_binlog_pos")
		if err != nil {
			return err
		}
		for _, r := range s.Replicas {
			if err := tp.waitGTID(ctx, r, pos, timeoutSec); err != nil {
				return err
			}
		}
	}
	return nil
}

func (tp *Topology) queryString(ctx context.Context, n Node, q string) (string, error) {
	d, err := tp.open(n, tp.RootUser, tp.RootPassword, "")
	if err != nil {
		return "", err
	}
	defer d.Close()
	var v sql.NullString
	if err := d.QueryRowContext(ctx, q).Scan(&v); err != nil {
		return "", fmt.Errorf("%s %s: %s: %w", n.Role, n.Addr, q, err)
	}
	return v.String, nil
}

func (tp *Topology) waitGTID(ctx context.Context, r Node, pos string, timeoutSec int) error {
	d, err := tp.open(r, tp.RootUser, tp.RootPassword, "")
	if err != nil {
		return err
	}
	defer d.Close()
	var res sql.NullInt64
	if err := d.QueryRowContext(ctx, "SELECT MASTER_GTID_WAIT(?, ?)", pos, timeoutSec).Scan(&res); err != nil {
		return fmt.Errorf("replica %s: MASTER_GTID_WAIT(%q): %w", r.Addr, pos, err)
	}
	if res.Valid && res.Int64 == 0 {
		return nil
	}
	return fmt.Errorf("replica %s (slice %s) did not reach primary position %q within %ds%s",
		r.Addr, r.Slice, pos, timeoutSec, slaveStatusSummary(ctx, d))
}

// slaveStatusSummary describes the replication threads, for error messages.
func slaveStatusSummary(ctx context.Context, d *sql.DB) string {
	rows, err := d.QueryContext(ctx, "SHOW SLAVE STATUS")
	if err != nil {
		return ""
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil || !rows.Next() {
		return ": replication is not configured"
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return ""
	}
	want := map[string]bool{"Slave_IO_Running": true, "Slave_SQL_Running": true, "Last_IO_Error": true,
		"Last_SQL_Error": true, "Seconds_Behind_Master": true, "Gtid_IO_Pos": true}
	var parts []string
	for i, c := range cols {
		if want[c] {
			parts = append(parts, c+"="+vals[i].String)
		}
	}
	return ": " + strings.Join(parts, " ")
}

// ---------------------------------------------------------------- private topologies

var (
	portMu       sync.Mutex
	portReserved = map[int]bool{}
)

// StartPrivate starts a separate topology (its own dir under t.TempDir(), the given slices/replicas/basePort) via scripts/topology.sh and registers cleanup that runs `down`. For destructive tests (failover) later. Find scripts/topology.sh by walking up from the working directory to the directory containing go.mod.
//
// basePort 0 picks a free range of ports. Skipped in -short mode, and when
// MariaDB is not installed (a failure instead when $CI is "true"). With
// $SWITCHYARD_PRIVATE_TOPO_ROOT set, the directory is created under it instead
// of t.TempDir(), so that scripts/test.sh can stop topologies whose cleanup
// never ran.
func StartPrivate(t testing.TB, slices, replicas, basePort int) *Topology {
	t.Helper()
	if testing.Short() {
		t.Skip("testtopo: StartPrivate skipped in -short mode")
	}
	if _, err := findMariadbd(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("testtopo: %v", err)
		}
		t.Skipf("testtopo: %v", err)
	}
	script, err := findScript()
	if err != nil {
		t.Fatalf("testtopo: %v", err)
	}
	run := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, script, args...)
		cmd.WaitDelay = 10 * time.Second
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	// With an automatic base port, another process may grab a port between
	// the check and mariadbd's bind: retry on fresh ports then.
	auto := basePort == 0
	attempts := 1
	if auto {
		attempts = 3
	}
	for attempt := 1; ; attempt++ {
		if auto {
			basePort, err = freeBasePort(slices, replicas)
			if err != nil {
				t.Fatalf("testtopo: %v", err)
			}
			bp := basePort
			t.Cleanup(func() { releaseBasePort(bp) })
		}
		dir, err := privateDir(t)
		if err != nil {
			t.Fatalf("testtopo: %v", err)
		}
		// Registered before `up`, so a half-started topology is torn down too.
		t.Cleanup(func() {
			if t.Failed() {
				out, _ := run("status", "--dir", dir)
				t.Logf("testtopo: private topology at failure:\n%s", out)
			}
			if out, err := run("down", "--dir", dir); err != nil {
				t.Errorf("testtopo: topology.sh down --dir %s: %v\n%s", dir, err, out)
			}
		})
		out, err := run("up", "--dir", dir, "--slices", strconv.Itoa(slices),
			"--replicas", strconv.Itoa(replicas), "--base-port", strconv.Itoa(basePort))
		if err != nil {
			if attempt < attempts && (strings.Contains(out, "already in use") || strings.Contains(out, "Address already in use")) {
				t.Logf("testtopo: ports from %d taken, retrying: %s", basePort, strings.TrimSpace(out))
				if out, err := run("down", "--dir", dir); err != nil {
					t.Logf("testtopo: topology.sh down --dir %s: %v\n%s", dir, err, out)
				}
				continue
			}
			t.Fatalf("testtopo: topology.sh up: %v\n%s", err, out)
		}
		tp, err := Load(filepath.Join(dir, "topology.env"))
		if err != nil {
			t.Fatalf("testtopo: %v", err)
		}
		return tp
	}
}

// privateDir returns an empty directory for a private topology: under
// $SWITCHYARD_PRIVATE_TOPO_ROOT if set (scripts/test.sh sets it and stops
// whatever is left there, e.g. after an interrupted or timed-out go test
// whose cleanups never ran), else t.TempDir().
func privateDir(t testing.TB) (string, error) {
	dir := ""
	if root := os.Getenv(PrivateRootEnvVar); root != "" {
		if err := os.MkdirAll(root, 0o755); err != nil {
			return "", err
		}
		d, err := os.MkdirTemp(root, "p")
		if err != nil {
			return "", err
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		dir = d
	} else {
		dir = t.TempDir()
	}
	// Unix socket paths are limited to 107 bytes: DIR/<port>/mysqld.sock.
	if len(dir)+len("/65535/mysqld.sock") > 100 {
		d, err := os.MkdirTemp("", "swtopo")
		if err != nil {
			return "", err
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		dir = d
	}
	return dir, nil
}

func findMariadbd() (string, error) {
	if p, err := exec.LookPath("mariadbd"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/mariadbd", "/usr/local/sbin/mariadbd"} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("mariadbd not found (apt-get install mariadb-server mariadb-client)")
}

// findScript walks up from the working directory to the module root.
func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			s := filepath.Join(dir, "scripts", "topology.sh")
			if _, err := os.Stat(s); err != nil {
				return "", fmt.Errorf("module root %s has no scripts/topology.sh: %w", dir, err)
			}
			return s, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// freeBasePort finds a base port whose whole port range is currently free.
// The ranges start above the default topology ports (3310..) and the start
// varies with the pid, so test binaries running in parallel rarely collide;
// topology.sh fails clearly if they do.
func freeBasePort(slices, replicas int) (int, error) {
	portMu.Lock()
	defer portMu.Unlock()
	const lo, hi, step = 4000, 9000, 100
	span := 10*(slices-1) + replicas + 1
	if span > step {
		span = ((span + step - 1) / step) * step
	}
	n := (hi - lo) / step
	start := os.Getpid() % n
	for k := 0; k < n; k++ {
		base := lo + ((start+k)%n)*step
		if base+span > 65535 || portReserved[base] {
			continue
		}
		if portsFree(base, span) {
			portReserved[base] = true
			return base, nil
		}
	}
	return 0, fmt.Errorf("no free port range of %d ports in %d..%d", span, lo, hi)
}

func releaseBasePort(base int) {
	portMu.Lock()
	defer portMu.Unlock()
	delete(portReserved, base)
}

func portsFree(base, span int) bool {
	for p := base; p < base+span; p++ {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

// PID returns the server process id of a node.
func (tp *Topology) PID(t testing.TB, n Node) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tp.Dir, strconv.Itoa(n.Port), "mysqld.pid"))
	if err != nil {
		t.Fatalf("testtopo: pid of %s: %v", n.Addr, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("testtopo: pid of %s: %v", n.Addr, err)
	}
	return pid
}

// Signal sends sig to a node's server process (SIGKILL, SIGSTOP, SIGCONT).
// After SIGKILL it waits until the port no longer accepts connections.
func (tp *Topology) Signal(t testing.TB, n Node, sig syscall.Signal) {
	t.Helper()
	pid := tp.PID(t, n)
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatalf("testtopo: kill -%d %d (%s): %v", sig, pid, n.Addr, err)
	}
	if sig != syscall.SIGKILL {
		return
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", n.Addr, 200*time.Millisecond)
		if err != nil {
			// The killed process may linger as a zombie where nothing reaps
			// orphans (containers): drop its pid files so that
			// topology.sh sees the node as down and StartNodes restarts it.
			dir := filepath.Join(tp.Dir, strconv.Itoa(n.Port))
			os.Remove(filepath.Join(dir, "mysqld.pid"))
			os.Remove(filepath.Join(dir, "launch.pid"))
			return
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("testtopo: %s still accepts connections after SIGKILL", n.Addr)
}

// StartNodes starts every node of the topology that is not running (after
// a kill), with its configured role.
func (tp *Topology) StartNodes(t testing.TB) {
	t.Helper()
	script, err := findScript()
	if err != nil {
		t.Fatalf("testtopo: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, script, "up", "--dir", tp.Dir).CombinedOutput()
	if err != nil {
		t.Fatalf("testtopo: topology.sh up --dir %s: %v\n%s", tp.Dir, err, out)
	}
}

// Promote turns a replica into a writable primary, as an operator or a
// cloud failover would: stop replicating and clear read_only.
func (tp *Topology) Promote(t testing.TB, n Node) {
	t.Helper()
	tp.Exec(t, n, "STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF")
}

// Repoint makes n replicate from primary (GTID, MASTER_USE_GTID=useGTID:
// "slave_pos" for a replica, "current_pos" for a former primary) and sets
// it read-only.
func (tp *Topology) Repoint(t testing.TB, n, primary Node, useGTID string) {
	t.Helper()
	tp.Exec(t, n, "SET GLOBAL read_only = ON", "STOP SLAVE",
		fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='%s', MASTER_PASSWORD='%s', MASTER_USE_GTID=%s",
			primary.Port, tp.ReplUser, tp.ReplPassword, useGTID),
		"START SLAVE")
}
