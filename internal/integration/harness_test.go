// Package integration holds end-to-end tests: real MariaDB servers started
// by scripts/topology.sh, the proxy running in-process, and real clients
// (go-sql-driver/mysql, the mariadb command-line client, sysbench).
package integration

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/proxy"
	"github.com/switchyard-db/switchyard/internal/testtopo"
)

// harness is a running proxy in front of the shared test topology.
type harness struct {
	t     *testing.T
	topo  *testtopo.Topology
	proxy *proxy.Proxy
	cfg   *config.Config
	addr  string
	// yaml is the generated configuration (tests of reloads edit it).
	yaml string
}

// options tweak the generated configuration.
type options struct {
	// extraTop is YAML added at the top level.
	extraTop string
	// pool is the YAML body of the namespace's pool (e.g. "{max_open: 1}").
	pool string
	// extraNamespaces is YAML appended to the namespaces list.
	extraNamespaces string
	// slices limits how many topology slices the namespace uses (0 = 1).
	slices int
	// nsExtra is YAML added to the namespace (indented by 4 spaces).
	nsExtra string
	// listen is the client listen address (default 127.0.0.1:0).
	listen string
	// users is YAML appended to the namespace's users list (indented by 6
	// spaces).
	users string
}

// Users of the generated namespace "itest".
const (
	splitUser = "app" // rw_split: true
	splitPass = "app_pw"
	plainUser = "w" // rw_split: false
	plainPass = "w_pw"
)

func startProxy(t *testing.T, o options) *harness {
	t.Helper()
	return startProxyOn(t, testtopo.Require(t), o)
}

// startProxyOn starts a proxy in front of a given topology (a private one
// for tests that break nodes).
func startProxyOn(t *testing.T, topo *testtopo.Topology, o options) *harness {
	t.Helper()
	var b strings.Builder
	if o.listen == "" {
		o.listen = "127.0.0.1:0"
	}
	fmt.Fprintf(&b, "listen: %s\nadmin: {listen: 127.0.0.1:0, user: admin, password: admin}\nlog: {level: warn}\n%s\n", o.listen, o.extraTop)
	b.WriteString("namespaces:\n  - name: itest\n")
	fmt.Fprintf(&b, "    users:\n      - {name: %s, password: %s, rw_split: true}\n      - {name: %s, password: %s}\n", splitUser, splitPass, plainUser, plainPass)
	b.WriteString(o.users)
	fmt.Fprintf(&b, "    backend: {user: %s, password: %s}\n", topo.BackendUser, topo.BackendPassword)
	fmt.Fprintf(&b, "    admin_backend: {user: %s, password: %s}\n", topo.RootUser, topo.RootPassword)
	fmt.Fprintf(&b, "    replication: {user: %s, password: %s}\n", topo.ReplUser, topo.ReplPassword)
	if o.pool != "" {
		fmt.Fprintf(&b, "    pool: %s\n", o.pool)
	}
	b.WriteString(o.nsExtra)
	n := o.slices
	if n == 0 {
		n = 1
	}
	b.WriteString("    slices:\n")
	for i := 0; i < n; i++ {
		s := topo.Slices[i]
		var reps []string
		for _, r := range s.Replicas {
			reps = append(reps, r.Addr)
		}
		fmt.Fprintf(&b, "      - {name: %s, primary: %s, replicas: [%s]}\n", s.Name, s.Primary.Addr, strings.Join(reps, ", "))
	}
	b.WriteString(o.extraNamespaces)
	cfg, err := config.Parse([]byte(b.String()), "itest.yaml")
	if err != nil {
		t.Fatalf("config: %v\n%s", err, b.String())
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("SWITCHYARD_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	p, err := proxy.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return &harness{t: t, topo: topo, proxy: p, cfg: cfg, addr: p.Addr().String(), yaml: b.String()}
}

// port returns the proxy's client port.
func (h *harness) port() string {
	_, p, _ := net.SplitHostPort(h.addr)
	return p
}

// dsn builds a go-sql-driver DSN for the proxy.
func (h *harness) dsn(user, pass, db, params string) string {
	d := fmt.Sprintf("%s:%s@tcp(%s)/%s", user, pass, h.addr, db)
	if params != "" {
		d += "?" + params
	}
	return d
}

// open returns a database handle through the proxy.
func (h *harness) open(user, pass, db, params string) *sql.DB {
	h.t.Helper()
	d, err := sql.Open("mysql", h.dsn(user, pass, db, params))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { d.Close() })
	return d
}

// conn returns a single client connection (one proxy session).
func (h *harness) conn(db *sql.DB) *sql.Conn {
	h.t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	return c
}

// raw logs in with Switchyard's own client implementation, for commands
// database/sql cannot send.
func (h *harness) raw(user, pass string) *backend.Conn {
	h.t.Helper()
	c, err := backend.Dial(context.Background(), h.addr, backend.DialOptions{User: user, Password: pass, ConnectTimeout: 5 * time.Second})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	return c
}

// primaryDB opens the shared topology's slice-0 primary as root.
func (h *harness) rootDB(n testtopo.Node, db string) *sql.DB {
	return h.topo.RootDB(h.t, n, db)
}

// mustExec runs statements, failing the test on error.
func mustExec(t *testing.T, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := q.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// queryString returns the first column of the first row.
func queryString(t *testing.T, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, query string, args ...any) string {
	t.Helper()
	var s sql.NullString
	if err := q.QueryRowContext(context.Background(), query, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return s.String
}

// mysqlErr asserts err is a MySQL error with the code (and state when given).
func mysqlErr(t *testing.T, err error, code uint16, state string) *mysql.MySQLError {
	t.Helper()
	me, ok := err.(*mysql.MySQLError)
	if !ok {
		t.Fatalf("want MySQL error %d, got %T %v", code, err, err)
	}
	if me.Number != code {
		t.Fatalf("want error %d, got %d: %s", code, me.Number, me.Message)
	}
	if state != "" && string(me.SQLState[:]) != state {
		t.Fatalf("want SQLSTATE %s, got %s (%s)", state, string(me.SQLState[:]), me.Message)
	}
	return me
}

// poolsIdle waits until no pooled backend connection is in use.
func (h *harness) poolsIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		inUse := 0
		for _, ns := range h.proxy.Topology().Namespaces {
			for _, s := range ns.Slices {
				for _, n := range s.Nodes {
					for _, p := range n.Pools() {
						st := p.Stats()
						inUse += st.InUse
						if st.Open > st.MaxOpen {
							t.Fatalf("pool %s has %d open > max %d", n.Addr, st.Open, st.MaxOpen)
						}
					}
				}
			}
		}
		if inUse == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d backend connections still in use", inUse)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// createDB makes a fresh database for a test on slice 0 (as root, directly).
func (h *harness) createDB(name string) {
	h.t.Helper()
	p := h.topo.Slices[0].Primary
	h.topo.Exec(h.t, p, "DROP DATABASE IF EXISTS "+name, "CREATE DATABASE "+name)
	d := h.topo.RootDB(h.t, p, "")
	h.t.Cleanup(func() { d.Exec("DROP DATABASE IF EXISTS " + name) })
}

// scrape fetches /metrics from the admin listener.
func (h *harness) scrape(t *testing.T) string {
	t.Helper()
	resp, err := http.Get("http://" + h.proxy.AdminAddr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
