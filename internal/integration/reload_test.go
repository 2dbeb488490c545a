package integration

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/proxy"
	"github.com/switchyard-db/switchyard/internal/testtopo"
)

// reloadConfig renders a file-mode configuration of namespace "rl" over
// the first slice of topo; users are name:password pairs.
func reloadConfig(topo *testtopo.Topology, users []string, pool string, withReplica bool) string {
	var b strings.Builder
	b.WriteString("listen: 127.0.0.1:0\nadmin: {listen: 127.0.0.1:0, user: admin, password: admin}\nlog: {level: warn}\n")
	b.WriteString("namespaces:\n  - name: rl\n    users:\n")
	for _, u := range users {
		name, pw, _ := strings.Cut(u, ":")
		fmt.Fprintf(&b, "      - {name: %s, password: %s, rw_split: true, read_consistency: session}\n", name, pw)
	}
	fmt.Fprintf(&b, "    backend: {user: %s, password: %s}\n", topo.BackendUser, topo.BackendPassword)
	if pool != "" {
		fmt.Fprintf(&b, "    pool: %s\n", pool)
	}
	s := topo.Slices[0]
	reps := ""
	if withReplica {
		reps = s.Replicas[0].Addr
	}
	fmt.Fprintf(&b, "    slices:\n      - {name: s0, primary: %s, replicas: [%s]}\n", s.Primary.Addr, reps)
	return b.String()
}

// adminCall sends an authenticated admin request and decodes the JSON answer.
func adminCall(t *testing.T, p *proxy.Proxy, method, path string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+p.AdminAddr().String()+path, nil)
	req.SetBasicAuth("admin", "admin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, body)
	}
	return resp.StatusCode, out
}

// TestReloadUnderLoad reloads the configuration file (POST /api/reload and
// Proxy.Reload, what SIGHUP calls) while clients run autocommit
// statements, transactions and prepared statements: no statement fails,
// added users log in, a removed replica is drained, a removed user's idle
// session ends, and bad files are rejected with the old configuration
// still serving.
func TestReloadUnderLoad(t *testing.T) {
	topo := testtopo.Require(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "sy.yaml")
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := []string{"app:app_pw"}
	write(reloadConfig(topo, base, "", true))
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
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
	defer p.Close()
	h := &harness{t: t, topo: topo, proxy: p, cfg: cfg, addr: p.Addr().String()}
	h.createDB("reload_t")
	root := h.rootDB(topo.Slices[0].Primary, "reload_t")
	mustExec(t, root, "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, w INT, v INT)")
	// Reads go to the replica: wait until it has the table.
	// (Opened without a database: the replica may not have reload_t yet.)
	replica := h.rootDB(topo.Slices[0].Replicas[0], "")
	for deadline := time.Now().Add(10 * time.Second); ; {
		var n int
		if replica.QueryRow("SELECT COUNT(*) FROM reload_t.t").Scan(&n) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replica did not get the table within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// The load: autocommit writes and reads, transactions, prepared statements.
	db := h.open("app", "app_pw", "reload_t", "")
	db.SetMaxOpenConns(12)
	ctx, stop := context.WithCancel(context.Background())
	var ops, fails atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	// However the test ends, the load stops: a failed check must not leave
	// it spinning against closed proxies for the rest of the package.
	defer func() { stop(); wg.Wait() }()
	fail := func(err error) {
		fails.Add(1)
		firstErr.CompareAndSwap(nil, err.Error())
	}
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				var err error
				switch i % 3 {
				case 0:
					_, err = db.Exec("INSERT INTO t (w, v) VALUES (?, ?)", w, i)
					if err == nil {
						var n int
						err = db.QueryRow("SELECT COUNT(*) FROM t WHERE w = ?", w).Scan(&n)
					}
				case 1:
					var tx *sql.Tx
					tx, err = db.Begin()
					if err == nil {
						if _, err = tx.Exec("INSERT INTO t (w, v) VALUES (?, ?)", w, -i); err == nil {
							var n int
							if err = tx.QueryRow("SELECT COUNT(*) FROM t WHERE w = ?", w).Scan(&n); err == nil {
								err = tx.Commit()
							}
						}
						if err != nil {
							_ = tx.Rollback()
						}
					}
				case 2:
					var n int
					err = db.QueryRow("SELECT 1 + ?", i).Scan(&n)
				}
				if err != nil {
					fail(err)
				} else {
					ops.Add(1)
				}
			}
		}(w)
	}
	waitOps := func(n int64) {
		t.Helper()
		target := ops.Load() + n
		deadline := time.Now().Add(30 * time.Second)
		for ops.Load() < target {
			if time.Now().After(deadline) {
				t.Fatalf("the load stalled at %d operations (%d failures: %v)", ops.Load(), fails.Load(), firstErr.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	reload := func(viaHTTP bool) (int, map[string]any) {
		t.Helper()
		if viaHTTP {
			return adminCall(t, p, "POST", "/api/reload")
		}
		if err := p.Reload(); err != nil {
			return http.StatusUnprocessableEntity, map[string]any{"error": err.Error()}
		}
		return http.StatusOK, nil
	}
	waitOps(200)

	// 1. Add a user: it logs in; the running sessions keep going.
	write(reloadConfig(topo, append(base, "u2:u2_pw"), "", true))
	if code, body := reload(true); code != http.StatusOK {
		t.Fatalf("reload adding a user: %d %v", code, body)
	}
	u2 := h.open("u2", "u2_pw", "reload_t", "")
	idle := h.conn(u2)
	if err := idle.PingContext(context.Background()); err != nil {
		t.Fatalf("added user cannot log in: %v", err)
	}
	waitOps(200)

	// 2. Bad files are rejected; the running configuration stays.
	revBefore := p.Revision()
	for _, bad := range []string{
		"namespaces: [\n", // YAML syntax
		strings.Replace(reloadConfig(topo, base, "", true), "rw_split", "rw_spilt", 1),                     // unknown key
		strings.Replace(reloadConfig(topo, base, "", true), "127.0.0.1:0\nadmin", "127.0.0.1:1\nadmin", 1), // listen needs a restart
	} {
		write(bad)
		code, body := reload(true)
		if code != http.StatusUnprocessableEntity {
			t.Fatalf("bad config answered %d %v", code, body)
		}
		_, st := adminCall(t, p, "GET", "/api/config")
		if st["last_error"] == "" || int64(st["revision"].(float64)) != revBefore {
			t.Fatalf("GET /api/config after a rejected change: %v", st)
		}
		if err := idle.PingContext(context.Background()); err != nil {
			t.Fatalf("the old configuration stopped serving: %v", err)
		}
	}
	waitOps(200)

	// 3. Remove the replica (drained), change the pool (new pools), bring
	// the replica back; through Reload (SIGHUP's path).
	write(reloadConfig(topo, append(base, "u2:u2_pw"), "", false))
	if code, body := reload(false); code != http.StatusOK {
		t.Fatalf("reload removing the replica: %v", body)
	}
	waitOps(200)
	write(reloadConfig(topo, append(base, "u2:u2_pw"), "{max_open: 20}", false))
	if code, body := reload(false); code != http.StatusOK {
		t.Fatalf("reload changing the pool: %v", body)
	}
	waitOps(200)
	write(reloadConfig(topo, append(base, "u2:u2_pw"), "{max_open: 20}", true))
	if code, body := reload(true); code != http.StatusOK {
		t.Fatalf("reload adding the replica back: %v", body)
	}
	waitOps(200)

	// 4. Remove u2: its idle session ends, its session inside a transaction
	// commits first, a new login is refused.
	inTx, err := h.conn(u2).BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inTx.Exec("INSERT INTO t (w, v) VALUES (99, 99)"); err != nil {
		t.Fatal(err)
	}
	write(reloadConfig(topo, base, "{max_open: 20}", true))
	if code, body := reload(true); code != http.StatusOK {
		t.Fatalf("reload removing a user: %v", body)
	}
	if err := idle.PingContext(context.Background()); err == nil {
		t.Error("the removed user's idle session still answers")
	}
	if _, err := inTx.Exec("INSERT INTO t (w, v) VALUES (99, 100)"); err != nil {
		t.Fatalf("a removed user's transaction failed before its end: %v", err)
	}
	if err := inTx.Commit(); err != nil {
		t.Fatalf("a removed user's transaction could not commit: %v", err)
	}
	var kept int
	if err := root.QueryRow("SELECT COUNT(*) FROM t WHERE w = 99").Scan(&kept); err != nil || kept != 2 {
		t.Fatalf("the removed user's committed rows: %d, %v", kept, err)
	}
	if _, err := h.open("u2", "u2_pw", "reload_t", "").Exec("SELECT 1"); err == nil {
		t.Error("the removed user can still log in")
	}
	waitOps(200)
	stop()
	wg.Wait()
	if fails.Load() != 0 {
		t.Fatalf("%d statements failed during reloads (of %d); first: %v", fails.Load(), ops.Load()+fails.Load(), firstErr.Load())
	}
	_, st := adminCall(t, p, "GET", "/api/config")
	if st["applied"].(float64) != 5 || st["rejected"].(float64) != 3 {
		t.Errorf("GET /api/config counts: %v", st)
	}
	// The retired pools close once no session uses the old snapshots.
	deadline := time.Now().Add(10 * time.Second)
	for p.ConfigStatus().Draining != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("retired nodes never drained: %+v", p.ConfigStatus())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n == 0 {
		t.Fatalf("after the reloads: %d rows, %v", n, err)
	}
	t.Logf("%d operations, 0 failures, across 5 applied and 3 rejected reloads", ops.Load())
}
