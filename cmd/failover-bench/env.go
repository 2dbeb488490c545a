package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/switchyard-db/switchyard/internal/loadgen"
	"github.com/switchyard-db/switchyard/internal/proxy"
	"github.com/switchyard-db/switchyard/internal/shard"
	"github.com/switchyard-db/switchyard/internal/testtopo"
	"github.com/switchyard-db/switchyard/internal/topology"
)

const (
	nsName   = "bench"
	dbName   = "fobench"
	appUser  = "app" // rw_split: true
	appPass  = "app_pw"
	plainU   = "w" // rw_split: false
	plainP   = "w_pw"
	adminU   = "admin"
	adminP   = "admin"
	writers  = 8
	readers  = 2
	idle     = 50
	stmtTick = 10 * time.Millisecond
)

// env is one scenario run: a private topology and a proxy in front of it.
type env struct {
	ctx    context.Context
	o      options
	dir    string
	topo   *testtopo.Topology
	proxy  *proxy.Proxy
	slice  *topology.Slice
	prim   testtopo.Node // the configured primary
	r1, r2 testtopo.Node // the configured replicas
	watch  *watcher
	// argv of the primary's server as topology.sh started it, to restart it
	// with the same options (return scenario).
	primArgv []string

	mu       sync.Mutex
	closed   bool
	cleanups []func()
}

var (
	activeMu sync.Mutex
	active   *env
)

// closeActive tears down the running scenario (signal or panic).
func closeActive() {
	activeMu.Lock()
	e := active
	activeMu.Unlock()
	if e != nil {
		e.close()
	}
}

func (e *env) defer_(f func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cleanups = append(e.cleanups, f)
}

// close runs the cleanups once, last registered first. A second caller
// waits until the first is done.
func (e *env) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	e.closed = true
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
	activeMu.Lock()
	if active == e {
		active = nil
	}
	activeMu.Unlock()
}

// setup starts the topology and the proxy.
func setup(ctx context.Context, o options, plog *slog.Logger, label string) (*env, error) {
	e := &env{ctx: ctx, o: o}
	activeMu.Lock()
	active = e
	activeMu.Unlock()
	root := o.tmpRoot
	dir, err := os.MkdirTemp(root, "fobench")
	if err != nil {
		return e, err
	}
	e.dir = dir
	e.defer_(func() { os.RemoveAll(dir) })
	for p := o.basePort; p <= o.basePort+2; p++ {
		if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), 200*time.Millisecond); err == nil {
			c.Close()
			return e, fmt.Errorf("port %d is already in use: pick another -base-port", p)
		}
	}
	// Registered before `up`, so that a half-started topology goes too.
	e.defer_(func() {
		// Not e.ctx: it is cancelled on SIGINT, and down must still run.
		c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(c, o.script, "down", "--dir", dir).CombinedOutput()
		if err != nil {
			logf("topology.sh down --dir %s: %v\n%s", dir, err, out)
		}
	})
	t0 := time.Now()
	if out, err := e.script("up", "--dir", dir, "--slices", "1", "--replicas", "2", "--base-port", strconv.Itoa(o.basePort)); err != nil {
		return e, fmt.Errorf("topology.sh up: %v\n%s", err, out)
	}
	e.topo, err = testtopo.Load(filepath.Join(dir, "topology.env"))
	if err != nil {
		return e, err
	}
	s := e.topo.Slices[0]
	e.prim, e.r1, e.r2 = s.Primary, s.Replicas[0], s.Replicas[1]
	logf("%s: topology up in %v (%s)", label, time.Since(t0).Round(time.Millisecond), dir)
	if pid, err := e.pid(e.prim); err == nil {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
			e.primArgv = strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		}
	}
	if err := e.execRoot(e.prim, "CREATE DATABASE "+dbName); err != nil {
		return e, err
	}

	cfg, err := shard.ParseConfig([]byte(e.configYAML()), "failover-bench.yaml")
	if err != nil {
		return e, fmt.Errorf("config: %v\n%s", err, e.configYAML())
	}
	plog.Info("==== failover-bench run", "run", label)
	p, err := proxy.New(cfg, plog.With("run", label))
	if err != nil {
		return e, err
	}
	if err := p.Start(); err != nil {
		return e, err
	}
	e.proxy = p
	e.defer_(func() { p.Close() })
	e.slice = p.Topology().Namespaces[nsName].Default
	e.watch = newWatcher(e.slice)
	e.defer_(e.watch.stop)
	return e, nil
}

// configYAML is the proxy configuration, as the integration tests build it.
func (e *env) configYAML() string {
	tp := e.topo
	var b strings.Builder
	fmt.Fprintf(&b, "listen: 127.0.0.1:0\nadmin: {listen: 127.0.0.1:0, user: %s, password: %s}\nlog: {level: info}\n", adminU, adminP)
	lag := ""
	if e.o.maxLag > 0 {
		lag = fmt.Sprintf(", max_replica_lag: %v", e.o.maxLag)
	}
	fmt.Fprintf(&b, "monitor: {interval: %v, timeout: %v, down_after: 2%s}\nfailover_hold_timeout: %v\n", e.o.interval, e.o.interval, lag, e.o.hold)
	fmt.Fprintf(&b, "namespaces:\n  - name: %s\n", nsName)
	fmt.Fprintf(&b, "    users:\n      - {name: %s, password: %s, rw_split: true}\n      - {name: %s, password: %s}\n", appUser, appPass, plainU, plainP)
	fmt.Fprintf(&b, "    backend: {user: %s, password: %s}\n", tp.BackendUser, tp.BackendPassword)
	fmt.Fprintf(&b, "    admin_backend: {user: %s, password: %s}\n", tp.RootUser, tp.RootPassword)
	fmt.Fprintf(&b, "    replication: {user: %s, password: %s}\n", tp.ReplUser, tp.ReplPassword)
	b.WriteString("    pool: {connect_timeout: 500ms}\n")
	fmt.Fprintf(&b, "    slices:\n      - {name: s0, primary: %s, replicas: [%s, %s]}\n", e.prim.Addr, e.r1.Addr, e.r2.Addr)
	return b.String()
}

// script runs topology.sh with the given arguments.
func (e *env) script(args ...string) (string, error) {
	c, cancel := context.WithTimeout(e.ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(c, e.o.script, args...)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// proxyDSN is a DSN through the proxy.
func (e *env) proxyDSN(user, pass, params string) string {
	d := fmt.Sprintf("%s:%s@tcp(%s)/%s", user, pass, e.proxy.Addr().String(), dbName)
	if params != "" {
		d += "?" + params
	}
	return d
}

func (e *env) startLoad(table string) (*loadgen.Load, error) {
	return loadgen.Start(loadgen.Options{
		DSN:     e.proxyDSN(appUser, appPass, "timeout=5s"),
		Table:   table,
		Writers: writers, Readers: readers, Idle: idle,
		Interval: stmtTick,
	})
}

// ---------------------------------------------------------------- nodes

func (e *env) nodeDir(n testtopo.Node) string { return filepath.Join(e.dir, strconv.Itoa(n.Port)) }

func (e *env) pid(n testtopo.Node) (int, error) {
	b, err := os.ReadFile(filepath.Join(e.nodeDir(n), "mysqld.pid"))
	if err != nil {
		return 0, fmt.Errorf("pid of %s: %w", n.Addr, err)
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// signal sends sig to a node's server.
func (e *env) signal(n testtopo.Node, sig syscall.Signal) (int, error) {
	pid, err := e.pid(n)
	if err != nil {
		return 0, err
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return pid, fmt.Errorf("kill -%d %d (%s): %w", sig, pid, n.Addr, err)
	}
	return pid, nil
}

// afterKill waits until a killed node's port refuses connections, then
// removes its pid files: a killed process can stay a zombie where nothing
// reaps orphans (containers), and topology.sh would think it still runs.
func (e *env) afterKill(n testtopo.Node) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", n.Addr, 200*time.Millisecond)
		if err != nil {
			os.Remove(filepath.Join(e.nodeDir(n), "mysqld.pid"))
			os.Remove(filepath.Join(e.nodeDir(n), "launch.pid"))
			return nil
		}
		c.Close()
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("%s still accepts connections after SIGKILL", n.Addr)
}

// restartWithArgv starts a node's server again with the command line
// topology.sh first used, without topology.sh: `topology.sh up` would also
// "configure" the promoted replica (it has no replication configured any
// more) as a replica of the configured primary again.
func (e *env) restartWithArgv(n testtopo.Node, argv []string) error {
	if len(argv) == 0 {
		return fmt.Errorf("no recorded command line for %s", n.Addr)
	}
	d := e.nodeDir(n)
	os.Remove(filepath.Join(d, "mysqld.pid"))
	os.Remove(filepath.Join(d, "mysqld.sock"))
	os.Remove(filepath.Join(d, "launch.pid"))
	out, err := os.OpenFile(filepath.Join(d, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		return err
	}
	out.Close()
	// topology.sh down finds it by this file until the server writes its own.
	_ = os.WriteFile(filepath.Join(d, "launch.pid"), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)
	go cmd.Wait() // reap it when topology.sh down stops it
	return nil
}

// open is a root connection to a node.
func (e *env) open(n testtopo.Node, db string) (*sql.DB, error) {
	return sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/%s?timeout=2s&readTimeout=30s&writeTimeout=10s", e.topo.RootUser, e.topo.RootPassword, n.Addr, db))
}

// execRoot runs statements in order on one root connection.
func (e *env) execRoot(n testtopo.Node, stmts ...string) error {
	_, err := e.execRootTimed(n, stmts...)
	return err
}

// execRootTimed is execRoot, returning when each statement returned.
func (e *env) execRootTimed(n testtopo.Node, stmts ...string) ([]time.Time, error) {
	d, err := e.open(n, "")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(e.ctx, 60*time.Second)
	defer cancel()
	c, err := d.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.Addr, err)
	}
	defer c.Close()
	var at []time.Time
	for _, s := range stmts {
		if _, err := c.ExecContext(ctx, s); err != nil {
			return at, fmt.Errorf("%s: %s: %w", n.Addr, s, err)
		}
		at = append(at, time.Now())
	}
	return at, nil
}

func (e *env) queryString(n testtopo.Node, q string, args ...any) (string, error) {
	d, err := e.open(n, "")
	if err != nil {
		return "", err
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	var v sql.NullString
	if err := d.QueryRowContext(ctx, q, args...).Scan(&v); err != nil {
		return "", fmt.Errorf("%s: %s: %w", n.Addr, q, err)
	}
	return v.String, nil
}

// promote makes a replica a writable primary; it returns when read_only
// was cleared.
func (e *env) promote(n testtopo.Node) (time.Time, error) {
	at, err := e.execRootTimed(n, "STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF")
	if err != nil {
		return time.Time{}, err
	}
	return at[len(at)-1], nil
}

// repoint makes n a read-only replica of primary; it returns when
// read_only was set.
func (e *env) repoint(n, primary testtopo.Node, useGTID string) (time.Time, error) {
	at, err := e.execRootTimed(n, "SET GLOBAL read_only = ON", "STOP SLAVE",
		fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='%s', MASTER_PASSWORD='%s', MASTER_USE_GTID=%s",
			primary.Port, e.topo.ReplUser, e.topo.ReplPassword, useGTID),
		"START SLAVE")
	if len(at) == 0 {
		return time.Time{}, err
	}
	return at[0], err
}

// slaveStatus summarizes SHOW SLAVE STATUS of a node.
func (e *env) slaveStatus(n testtopo.Node) string {
	d, err := e.open(n, "")
	if err != nil {
		return err.Error()
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	rows, err := d.QueryContext(ctx, "SHOW SLAVE STATUS")
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !rows.Next() {
		return "not replicating"
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return err.Error()
	}
	get := func(name string) string {
		for i, c := range cols {
			if c == name {
				return vals[i].String
			}
		}
		return ""
	}
	s := fmt.Sprintf("source :%s io=%s sql=%s", get("Master_Port"), get("Slave_IO_Running"), get("Slave_SQL_Running"))
	if v := get("Last_IO_Error"); v != "" {
		s += " io_error=" + strconvQuote(v)
	}
	if v := get("Last_SQL_Error"); v != "" {
		s += " sql_error=" + strconvQuote(v)
	}
	return s
}

func strconvQuote(s string) string {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strconv.Quote(s)
}

// waitUp polls a node until it answers a query as root.
func (e *env) waitUp(n testtopo.Node, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && e.ctx.Err() == nil {
		c, err := net.DialTimeout("tcp", n.Addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			if _, err := e.queryString(n, "SELECT 1"); err == nil {
				return time.Now(), nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Time{}, fmt.Errorf("%s did not answer within %v", n.Addr, timeout)
}

// readsFrom polls `SELECT @@port` through the proxy (rw_split user) until a
// read is served by n.
func (e *env) readsFrom(n testtopo.Node, timeout time.Duration) (time.Time, error) {
	d, err := sql.Open("mysql", e.proxyDSN(appUser, appPass, "timeout=5s"))
	if err != nil {
		return time.Time{}, err
	}
	defer d.Close()
	want := strconv.Itoa(n.Port)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && e.ctx.Err() == nil {
		ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
		var port string
		err := d.QueryRowContext(ctx, "SELECT @@port").Scan(&port)
		cancel()
		if err == nil && port == want {
			return time.Now(), nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Time{}, fmt.Errorf("no read served by %s within %v", n.Addr, timeout)
}

func (e *env) syncCheck(table string, primary testtopo.Node, others []testtopo.Node, r *result) error {
	r.SyncTotal = len(others)
	pos, err := e.queryString(primary, "SELECT @@gtid_binlog_pos")
	if err != nil {
		return err
	}
	sum := func(n testtopo.Node) (string, error) {
		return e.queryString(n, fmt.Sprintf("SELECT CONCAT(COUNT(*), '/', COALESCE(BIT_XOR(CRC32(CONCAT_WS(',', id, client, seq, at))), 0)) FROM %s.%s", dbName, table))
	}
	want, err := sum(primary)
	if err != nil {
		return err
	}
	for _, n := range others {
		res, err := e.queryString(n, "SELECT MASTER_GTID_WAIT(?, 5)", pos)
		if err != nil || res != "0" {
			r.note("%s did not reach the primary's position %s within 5s (%v %s): %s", n.Addr, pos, err, res, e.slaveStatus(n))
			if extra := e.extraRows(table, n, primary); extra != "" {
				r.note("%s", extra)
			}
			continue
		}
		got, err := sum(n)
		if err != nil {
			r.note("%s: %v", n.Addr, err)
			continue
		}
		if got != want {
			r.note("%s has rows %s, the primary %s (count/checksum)", n.Addr, got, want)
			if extra := e.extraRows(table, n, primary); extra != "" {
				r.note("%s", extra)
			}
			continue
		}
		r.SyncOK++
	}
	return nil
}

// behind describes how far n is behind primary (transactions of the
// slice's GTID domain in their binlogs; every node logs replicated
// transactions too).
func (e *env) behind(n, primary testtopo.Node) string {
	np, err1 := e.queryString(n, "SELECT @@gtid_binlog_pos")
	pp, err2 := e.queryString(primary, "SELECT @@gtid_binlog_pos")
	if err1 != nil || err2 != nil {
		return fmt.Sprintf("position when it first served a read: unknown (%v %v)", err1, err2)
	}
	a, b := gtidSeq(np, 1), gtidSeq(pp, 1)
	return fmt.Sprintf("when it first served a read it was %d transactions behind (its gtid_binlog_pos %s, the primary's %s)", b-a, np, pp)
}

// gtidSeq returns the sequence number of a domain in a GTID position
// ("1-4610-123,2-...").
func gtidSeq(pos string, domain int) int64 {
	for _, g := range strings.Split(pos, ",") {
		f := strings.Split(strings.TrimSpace(g), "-")
		if len(f) != 3 {
			continue
		}
		if d, err := strconv.Atoi(f[0]); err != nil || d != domain {
			continue
		}
		s, _ := strconv.ParseInt(f[2], 10, 64)
		return s
	}
	return 0
}

// extraRows lists rows of the table that n has and primary has not, with
// the GTIDs only n has.
func (e *env) extraRows(table string, n, primary testtopo.Node) string {
	rows := func(x testtopo.Node) (map[int64]string, error) {
		d, err := e.open(x, dbName)
		if err != nil {
			return nil, err
		}
		defer d.Close()
		rs, err := d.QueryContext(e.ctx, "SELECT id, client, seq, DATE_FORMAT(at, '%H:%i:%s.%f') FROM "+table)
		if err != nil {
			return nil, err
		}
		defer rs.Close()
		m := map[int64]string{}
		for rs.Next() {
			var id int64
			var client, seq int
			var at string
			if err := rs.Scan(&id, &client, &seq, &at); err != nil {
				return nil, err
			}
			m[id] = fmt.Sprintf("id=%d client=%d seq=%d at=%s", id, client, seq, at)
		}
		return m, rs.Err()
	}
	have, err1 := rows(n)
	want, err2 := rows(primary)
	if err1 != nil || err2 != nil {
		return fmt.Sprintf("comparing rows of %s: %v %v", n.Addr, err1, err2)
	}
	var extra []string
	for id, v := range have {
		if want[id] != v {
			extra = append(extra, v)
		}
	}
	sort.Strings(extra)
	np, _ := e.queryString(n, "SELECT @@gtid_binlog_pos")
	pp, _ := e.queryString(primary, "SELECT @@gtid_binlog_pos")
	if len(extra) == 0 {
		return fmt.Sprintf("%s has no row the primary lacks (its gtid_binlog_pos %s, the primary's %s)", n.Addr, np, pp)
	}
	if len(extra) > 5 {
		extra = append(extra[:5], "...")
	}
	return fmt.Sprintf("%s has rows the primary lacks: %s (its gtid_binlog_pos %s, the primary's %s)", n.Addr, strings.Join(extra, "; "), np, pp)
}
