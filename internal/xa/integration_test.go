package xa

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/testtopo"
)

// env is one integration test's view of the shared topology: its own
// application database, decision database and namespace on every slice.
type env struct {
	t     testing.TB
	tp    *testtopo.Topology
	db    string // application database
	decDB string // decision database
	ns    string
	names []string
}

var envSeq atomic.Int64

func newEnv(t testing.TB, schema ...string) *env {
	t.Helper()
	tp := testtopo.Require(t)
	if len(tp.Slices) < 3 {
		t.Skipf("needs 3 slices, the topology has %d", len(tp.Slices))
	}
	n := envSeq.Add(1)
	e := &env{t: t, tp: tp,
		db:    fmt.Sprintf("xa_app_%d_%d", os.Getpid(), n),
		decDB: fmt.Sprintf("xa_dec_%d_%d", os.Getpid(), n),
		ns:    fmt.Sprintf("it%d-%d", os.Getpid(), n),
	}
	for _, s := range tp.Slices[:3] {
		e.names = append(e.names, s.Name)
	}
	for _, name := range e.names {
		s, _ := tp.Slice(name)
		stmts := []string{"CREATE DATABASE " + e.db, "USE " + e.db}
		tp.Exec(t, s.Primary, append(stmts, schema...)...)
	}
	t.Cleanup(func() {
		for _, name := range e.names {
			s, _ := tp.Slice(name)
			// Nothing of ours may be left prepared: it would hold locks.
			c := e.dial(name)
			_, rows, err := c.QueryRows("XA RECOVER")
			if err == nil {
				for _, r := range rows {
					gl, _ := strconv.Atoi(r[1])
					if strings.HasPrefix(r[3], GtridPrefix+":"+e.ns+":") {
						bl, _ := strconv.Atoi(r[2])
						t.Errorf("slice %s: %s left prepared", name, r[3])
						_, _ = c.Exec("XA ROLLBACK " + xid{r[3][:gl], r[3][gl : gl+bl]}.sql())
					}
				}
			}
			c.Close()
			tp.Exec(t, s.Primary, "DROP DATABASE IF EXISTS "+e.db, "DROP DATABASE IF EXISTS "+e.decDB)
		}
	})
	return e
}

func (e *env) coordinator(proxyID string, mod func(*Options)) *Coordinator {
	e.t.Helper()
	o := Options{Namespace: e.ns, ProxyID: proxyID, DB: e.decDB, Slices: e.names, Grace: 200 * time.Millisecond}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		e.t.Fatal(err)
	}
	conns := e.conns()
	defer closeAll(conns)
	if err := c.Ensure(conns); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// dial opens a backend connection to a slice primary as the proxy's user.
func (e *env) dial(slice string) *backend.Conn {
	e.t.Helper()
	c, err := e.tryDial(slice)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// tryDial is dial for goroutines other than the test's.
func (e *env) tryDial(slice string) (*backend.Conn, error) {
	s, ok := e.tp.Slice(slice)
	if !ok {
		return nil, fmt.Errorf("no slice %s", slice)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := backend.Dial(ctx, s.Primary.Addr, backend.DialOptions{User: e.tp.BackendUser, Password: e.tp.BackendPassword, ConnectTimeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", slice, err)
	}
	if err := c.InitDB(e.db); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (e *env) conns() map[string]Conn {
	m := map[string]Conn{}
	for _, n := range e.names {
		m[n] = e.dial(n)
	}
	return m
}

func closeAll(m map[string]Conn) {
	for _, c := range m {
		if bc, ok := c.(*backend.Conn); ok {
			bc.Close()
		}
	}
}

// query runs a query as root on a slice primary and returns the rows
// joined as "a b;c d".
// waitLockWait waits until c's statement waits for a row lock on slice
// (instead of sleeping and hoping it got there).
func (e *env) waitLockWait(slice string, c *backend.Conn) {
	e.t.Helper()
	q := fmt.Sprintf("SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id = %d AND trx_state = 'LOCK WAIT'", c.ServerID)
	deadline := time.Now().Add(10 * time.Second)
	for e.query(slice, q) == "0" {
		if time.Now().After(deadline) {
			e.t.Fatalf("connection %d on %s never waited for the lock: %s", c.ServerID, slice,
				e.query(slice, "SELECT GROUP_CONCAT(CONCAT(trx_mysql_thread_id, ':', trx_state)) FROM information_schema.INNODB_TRX"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *env) query(slice, q string) string {
	e.t.Helper()
	c := e.dial(slice)
	defer c.Close()
	_, rows, err := c.QueryRows(q)
	if err != nil {
		e.t.Fatalf("%s on %s: %v", q, slice, err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, strings.Join(r, " "))
	}
	return strings.Join(out, ";")
}

// ours lists this test's prepared branches on a slice.
func (e *env) prepared(slice string) []string {
	e.t.Helper()
	c := e.dial(slice)
	defer c.Close()
	ps, err := listPrepared(slice, c)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, p := range ps {
		if strings.HasPrefix(p.gtrid, GtridPrefix+":"+e.ns+":") {
			out = append(out, p.gtrid+","+p.bqual)
		}
	}
	return out
}

// recoverAll runs Recover until nothing of ours is prepared (a closed
// connection's branch detaches a moment after the close).
func (e *env) recoverAll(c *Coordinator) Report {
	e.t.Helper()
	conns := e.conns()
	defer closeAll(conns)
	var total Report
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := c.Recover(context.Background(), conns)
		if err != nil {
			e.t.Fatalf("Recover: %v", err)
		}
		total.Committed += r.Committed
		total.RolledBack += r.RolledBack
		total.Claims += r.Claims
		total.DecisionsDeleted += r.DecisionsDeleted
		if r.Prepared == 0 {
			return total
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("still prepared after 30s: %+v", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// crashConn simulates the proxy dying: when a statement starts with crashOn,
// every connection of the transaction is closed at once (no COM_QUIT, no
// XA COMMIT/ROLLBACK) and the statement fails as with a lost connection.
type crashConn struct {
	*backend.Conn
	crashOn string
	crash   func()
}

func (c *crashConn) Exec(sql string) (protocol.OK, error) {
	if c.crashOn != "" && strings.HasPrefix(sql, c.crashOn) {
		c.crash()
	}
	return c.Conn.Exec(sql)
}

// crashGroup holds a transaction's connections and kills them together.
type crashGroup struct {
	mu    sync.Mutex
	conns []*backend.Conn
	once  sync.Once
}

func (g *crashGroup) add(c *backend.Conn) { g.mu.Lock(); g.conns = append(g.conns, c); g.mu.Unlock() }

func (g *crashGroup) crash() {
	g.once.Do(func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, c := range g.conns {
			c.Conn.Conn.Close() // the socket only: safe while another goroutine uses c
		}
	})
}

func (g *crashGroup) closeAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.conns {
		c.Close()
	}
}

const accountsSchema = "CREATE TABLE acct (id INT PRIMARY KEY, bal BIGINT NOT NULL) ENGINE=InnoDB"

// (a) a transaction over 3 slices commits everywhere; savepoints work on
// XA branches, including one joining after the savepoint.
func TestIntegrationCommitThreeSlices(t *testing.T) {
	e := newEnv(t, accountsSchema)
	co := e.coordinator("pa", nil)
	c0, c1, c2 := e.dial("s0"), e.dial("s1"), e.dial("s2")
	defer c0.Close()
	defer c1.Close()
	defer c2.Close()
	if !strings.Contains(c0.Version, "MariaDB") {
		t.Logf("backend is %s", c0.Version)
	}
	mustExec(t, c0, "BEGIN")
	tx := co.Begin("s0", c0)
	mustExec(t, c0, "INSERT INTO acct VALUES (1, 100)")
	if err := tx.Savepoint("a"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Join("s1", c1); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c1, "INSERT INTO acct VALUES (101, 100)")
	if err := tx.Savepoint("b"); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c1, "INSERT INTO acct VALUES (102, 100)")
	if err := tx.Join("s2", c2); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c2, "INSERT INTO acct VALUES (201, 100)")
	if err := tx.RollbackTo("b"); err != nil { // drops 102 and 201
		t.Fatal(err)
	}
	mustExec(t, c2, "INSERT INTO acct VALUES (202, 100)")
	mustExec(t, c0, "INSERT INTO acct VALUES (2, 100)")
	if err := tx.Release("a"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	for slice, want := range map[string]string{"s0": "1 100;2 100", "s1": "101 100", "s2": "202 100"} {
		if got := e.query(slice, "SELECT id, bal FROM "+e.db+".acct ORDER BY id"); got != want {
			t.Errorf("%s: %q, want %q", slice, got, want)
		}
		if p := e.prepared(slice); len(p) != 0 {
			t.Errorf("%s: prepared %v", slice, p)
		}
	}
	// The connections are reusable.
	for _, c := range []*backend.Conn{c0, c1, c2} {
		if c.Broken() || c.Status&protocol.StatusInTrans != 0 {
			t.Errorf("%s: broken=%v status=%#x", c, c.Broken(), c.Status)
		}
	}
	// The decision row is there until the next commit on s0 (or a flush).
	if got := e.query("s0", "SELECT decision FROM "+e.decDB+".xa_decisions WHERE gtrid = '"+tx.Gtrid()+"'"); got != "commit" {
		t.Errorf("decision %q", got)
	}
	if n, err := co.FlushCleanup("s0", c0); n != 1 || err != nil {
		t.Errorf("FlushCleanup = %d, %v", n, err)
	}
}

// (b) a duplicate key on a branch: the client rolls back and nothing is
// left anywhere; a deadlocked branch makes PREPARE fail with the server's
// error, relayed as is, and everything rolls back.
func TestIntegrationBranchFailures(t *testing.T) {
	e := newEnv(t, accountsSchema, "INSERT INTO acct VALUES (7, 1), (8, 1)")
	co := e.coordinator("pb", nil)
	ctx := context.Background()

	t.Run("duplicate key", func(t *testing.T) {
		c0, c1, c2 := e.dial("s0"), e.dial("s1"), e.dial("s2")
		defer c0.Close()
		defer c1.Close()
		defer c2.Close()
		mustExec(t, c0, "BEGIN")
		tx := co.Begin("s0", c0)
		mustExec(t, c0, "INSERT INTO acct VALUES (1, 1)")
		for _, j := range []struct {
			s string
			c *backend.Conn
		}{{"s1", c1}, {"s2", c2}} {
			if err := tx.Join(j.s, j.c); err != nil {
				t.Fatal(err)
			}
		}
		mustExec(t, c1, "INSERT INTO acct VALUES (1, 1)")
		_, err := c2.Exec("INSERT INTO acct VALUES (7, 1)")
		if errCode(err) != 1062 {
			t.Fatalf("duplicate insert: %v", err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		for _, s := range e.names {
			if got := e.query(s, "SELECT COUNT(*) FROM "+e.db+".acct WHERE id NOT IN (7, 8)"); got != "0" {
				t.Errorf("%s: %s rows", s, got)
			}
		}
	})

	t.Run("deadlocked branch", func(t *testing.T) {
		c0, c1, c2, other := e.dial("s0"), e.dial("s1"), e.dial("s2"), e.dial("s2")
		defer c0.Close()
		defer c1.Close()
		defer c2.Close()
		defer other.Close()
		mustExec(t, c0, "BEGIN")
		tx := co.Begin("s0", c0)
		mustExec(t, c0, "INSERT INTO acct VALUES (1, 1)")
		if err := tx.Join("s1", c1); err != nil {
			t.Fatal(err)
		}
		mustExec(t, c1, "INSERT INTO acct VALUES (1, 1)")
		if err := tx.Join("s2", c2); err != nil {
			t.Fatal(err)
		}
		// Make the XA branch on s2 the deadlock victim: it has fewer
		// changes than the other transaction.
		mustExec(t, c2, "UPDATE acct SET bal = 2 WHERE id = 7")
		mustExec(t, other, "BEGIN; UPDATE acct SET bal = 3 WHERE id = 8; INSERT INTO acct VALUES (50,1),(51,1),(52,1)")
		done := make(chan error)
		go func() { _, err := c2.Exec("UPDATE acct SET bal = 2 WHERE id = 8"); done <- err }()
		e.waitLockWait("s2", c2)
		_, err2 := other.Exec("UPDATE acct SET bal = 3 WHERE id = 7")
		err1 := <-done
		if errCode(err1) != codeDeadlock || err2 != nil {
			t.Fatalf("deadlock: branch %v, other %v", err1, err2)
		}
		mustExec(t, other, "ROLLBACK")
		err := tx.Commit(ctx)
		var pe *protocol.Error
		var be *BranchError
		if !errors.As(err, &pe) || pe.Code != codeXAERRmfail || pe.State != "XAE07" || !errors.As(err, &be) || be.Slice != "s2" {
			t.Fatalf("Commit = %v", err)
		}
		t.Logf("relayed: %v", ClientError(err))
		for _, s := range e.names {
			if got := e.query(s, "SELECT COUNT(*) FROM "+e.db+".acct WHERE id NOT IN (7, 8)"); got != "0" {
				t.Errorf("%s: %s rows", s, got)
			}
			if p := e.prepared(s); len(p) != 0 {
				t.Errorf("%s: prepared %v", s, p)
			}
		}
		for _, c := range []*backend.Conn{c0, c1, c2} {
			if c.Broken() {
				t.Errorf("%s broken", c)
			}
			mustExec(t, c, "SELECT 1")
		}
	})
}

// The local transaction is a deadlock victim (InnoDB rolled it back, the
// session did not notice): the decision must not be autocommitted.
func TestIntegrationDeadlockedLocal(t *testing.T) {
	e := newEnv(t, accountsSchema, "INSERT INTO acct VALUES (7, 1), (8, 1)")
	co := e.coordinator("pg", nil)
	c0, c1, other := e.dial("s0"), e.dial("s1"), e.dial("s0")
	defer c0.Close()
	defer c1.Close()
	defer other.Close()
	mustExec(t, c0, "BEGIN")
	tx := co.Begin("s0", c0)
	mustExec(t, c0, "UPDATE acct SET bal = 2 WHERE id = 7")
	if err := tx.Join("s1", c1); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c1, "INSERT INTO acct VALUES (1, 1)")
	mustExec(t, other, "BEGIN; UPDATE acct SET bal = 3 WHERE id = 8; INSERT INTO acct VALUES (50,1),(51,1),(52,1)")
	done := make(chan error)
	go func() { _, err := c0.Exec("UPDATE acct SET bal = 2 WHERE id = 8"); done <- err }()
	e.waitLockWait("s0", c0)
	_, err2 := other.Exec("UPDATE acct SET bal = 3 WHERE id = 7")
	if err1 := <-done; errCode(err1) != codeDeadlock || err2 != nil {
		t.Fatalf("deadlock: local %v, other %v", err1, err2)
	}
	mustExec(t, other, "ROLLBACK")
	// The session should call SetRollbackOnly; without it the guard in the
	// decision statement still refuses to commit.
	err := tx.Commit(context.Background())
	if errCode(err) != codeXARBRollback {
		t.Fatalf("Commit = %v", err)
	}
	if got := e.query("s1", "SELECT COUNT(*) FROM "+e.db+".acct WHERE id NOT IN (7, 8)"); got != "0" {
		t.Errorf("s1: %s rows", got)
	}
	if got := e.query("s0", "SELECT COUNT(*) FROM "+e.decDB+".xa_decisions"); got != "0" {
		t.Errorf("%s decision rows", got)
	}
	if got := e.query("s0", "SELECT bal FROM "+e.db+".acct WHERE id = 7"); got != "1" {
		t.Errorf("s0 id 7: %s", got)
	}
}

// crashTxn runs a transaction over 3 slices whose proxy "dies" at the
// first statement starting with crashOn on one of crashSlices.
func (e *env) crashTxn(co *Coordinator, crashOn string, crashSlices ...string) (*Txn, error) {
	e.t.Helper()
	g := &crashGroup{}
	conns := map[string]*crashConn{}
	for _, s := range e.names {
		bc := e.dial(s)
		g.add(bc)
		cc := &crashConn{Conn: bc, crash: g.crash}
		for _, cs := range crashSlices {
			if s == cs {
				cc.crashOn = crashOn
			}
		}
		conns[s] = cc
	}
	defer g.closeAll()
	mustExec(e.t, conns["s0"], "BEGIN")
	tx := co.Begin("s0", conns["s0"])
	mustExec(e.t, conns["s0"], "INSERT INTO acct VALUES (1, 10)")
	for _, s := range e.names[1:] {
		if err := tx.Join(s, conns[s]); err != nil {
			e.t.Fatal(err)
		}
		mustExec(e.t, conns[s], "INSERT INTO acct VALUES (1, 10)")
	}
	return tx, tx.Commit(context.Background())
}

// (c) the proxy dies after writing its decision, before XA COMMIT: the
// branches stay prepared across the disconnect, and a new coordinator's
// Recover commits them.
func TestIntegrationCrashAfterDecision(t *testing.T) {
	e := newEnv(t, accountsSchema)
	co := e.coordinator("pc", nil)
	// Both branches crash before sending XA COMMIT, whichever goes first.
	tx, err := e.crashTxn(co, "XA COMMIT", "s1", "s2")
	if err != nil {
		t.Fatalf("Commit = %v (the decision was durable: the transaction is committed)", err)
	}
	if u := tx.Unfinished(); len(u) != 2 {
		t.Errorf("Unfinished = %v", u)
	}
	// The local part is committed; the branches are prepared, invisible.
	if got := e.query("s0", "SELECT bal FROM "+e.db+".acct WHERE id = 1"); got != "10" {
		t.Errorf("s0: %q", got)
	}
	for _, s := range e.names[1:] {
		waitForT(t, func() bool { return len(e.prepared(s)) == 1 })
		if got := e.query(s, "SELECT COUNT(*) FROM "+e.db+".acct"); got != "0" {
			t.Errorf("%s: %s rows visible before recovery", s, got)
		}
	}
	fresh := e.coordinator("pc2", nil)
	p, err := fresh.Pending(context.Background(), e.conns())
	var mine []InDoubt
	for _, d := range p {
		if d.Gtrid == tx.Gtrid() {
			mine = append(mine, d)
		}
	}
	if err != nil || len(mine) != 1 || mine[0].Decision != "commit" || strings.Join(mine[0].Branches, ",") != "s1,s2" {
		t.Fatalf("Pending = %+v, %v", p, err)
	}
	r := e.recoverAll(fresh)
	if r.Committed != 2 || r.Claims != 0 {
		t.Errorf("Recover = %+v", r)
	}
	for _, s := range e.names {
		if got := e.query(s, "SELECT bal FROM "+e.db+".acct WHERE id = 1"); got != "10" {
			t.Errorf("%s after recovery: %q", s, got)
		}
	}
	if got := e.query("s0", "SELECT COUNT(*) FROM "+e.decDB+".xa_decisions"); got != "0" {
		t.Errorf("%s decision rows left", got)
	}
}

// (d) the proxy dies after PREPARE, before its decision: Recover rolls
// back everywhere. Also: dying during the prepare phase.
func TestIntegrationCrashBeforeDecision(t *testing.T) {
	for _, tc := range []struct{ name, slice, on string }{
		{"at the decision", "s0", "INSERT INTO `"},
		{"during prepare", "s2", "XA END"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, accountsSchema)
			co := e.coordinator("pd", nil)
			tx, err := e.crashTxn(co, tc.on, tc.slice)
			if err == nil {
				t.Fatal("Commit succeeded")
			}
			t.Logf("Commit: %v", err)
			r := e.recoverAll(e.coordinator("pd2", nil))
			if tc.slice == "s0" && (r.RolledBack != 2 || r.Claims != 1) {
				t.Errorf("Recover = %+v", r)
			}
			for _, s := range e.names {
				if got := e.query(s, "SELECT COUNT(*) FROM "+e.db+".acct"); got != "0" {
					t.Errorf("%s: %s rows", s, got)
				}
			}
			if tc.slice == "s0" {
				if got := e.query("s0", "SELECT decision FROM "+e.decDB+".xa_decisions WHERE gtrid = '"+tx.Gtrid()+"'"); got != "rollback" {
					t.Errorf("decision %q", got)
				}
			}
		})
	}
}

func waitForT(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// (e) 8 goroutines transfer money between accounts on different slices,
// with client rollbacks, proxy crashes at every step of the commit and a
// recovery loop running concurrently from "another proxy". At the end the
// total is unchanged and every transfer is applied on both sides or on
// neither.
func TestIntegrationConcurrentTransfers(t *testing.T) {
	const perSlice, initial = 8, 1000
	e := newEnv(t, accountsSchema, "CREATE TABLE xfer (tid VARCHAR(40) PRIMARY KEY, leg CHAR(6) NOT NULL, amount INT NOT NULL) ENGINE=InnoDB")
	for i, s := range e.names {
		var vals []string
		for a := 0; a < perSlice; a++ {
			vals = append(vals, fmt.Sprintf("(%d, %d)", i*100+a, initial))
		}
		sl, _ := e.tp.Slice(s)
		e.tp.Exec(t, sl.Primary, "INSERT INTO "+e.db+".acct VALUES "+strings.Join(vals, ","))
	}
	co := e.coordinator("pe", func(o *Options) { o.Grace = 300 * time.Millisecond })
	recoverer := e.coordinator("pe-r", func(o *Options) { o.Grace = 300 * time.Millisecond })

	workers, perWorker := 8, 40
	if testing.Short() {
		perWorker = 10
	}
	stop := make(chan struct{})
	var recWG sync.WaitGroup
	recWG.Add(1)
	var recPasses, recClaims atomic.Int64
	go func() {
		defer recWG.Done()
		conns := map[string]Conn{}
		redial := func() {
			closeAll(conns)
			conns = map[string]Conn{}
			for _, s := range e.names {
				if c, err := e.tryDial(s); err == nil {
					conns[s] = c
				} else {
					t.Error(err)
				}
			}
		}
		redial()
		defer func() { closeAll(conns) }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			r, err := recoverer.Recover(context.Background(), conns)
			recPasses.Add(1)
			recClaims.Add(int64(r.Claims))
			if err != nil {
				t.Logf("concurrent Recover: %v", err)
				redial()
			}
		}
	}()

	type outcome struct{ committed, aborted, inDoubt, crashed, stmtErr atomic.Int64 }
	var out outcome
	var committedTids sync.Map
	var abortedTids sync.Map
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for i := 0; i < perWorker; i++ {
				a := rng.IntN(3)
				b := (a + 1 + rng.IntN(2)) % 3
				from, to := a*100+rng.IntN(perSlice), b*100+rng.IntN(perSlice)
				amount := 1 + rng.IntN(50)
				tid := fmt.Sprintf("w%d-%d", w, i)
				g := &crashGroup{}
				mk := func(s string) *crashConn {
					bc, err := e.tryDial(s)
					if err == nil {
						g.add(bc)
						_, err = bc.Exec("SET SESSION innodb_lock_wait_timeout = 2")
					}
					if err != nil {
						t.Error(err)
						return nil
					}
					return &crashConn{Conn: bc, crash: g.crash}
				}
				local, remote := mk(e.names[a]), mk(e.names[b])
				if local == nil || remote == nil {
					g.closeAll()
					return
				}
				// What happens to this one.
				crash := ""
				switch p := rng.IntN(100); {
				case p < 8:
					local.crashOn = "INSERT INTO `" // the decision
				case p < 16:
					remote.crashOn = "XA COMMIT"
				case p < 22:
					remote.crashOn = "XA END"
				case p < 26:
					remote.crashOn = "XA START"
				}
				crash = local.crashOn + remote.crashOn
				clientAbort := rng.IntN(100) < 10

				run := func() error {
					if _, err := local.Exec("BEGIN"); err != nil {
						return err
					}
					tx := co.Begin(e.names[a], local)
					fail := func(err error) error {
						tx.SetRollbackOnly(err)
						_ = tx.Rollback(context.Background())
						out.stmtErr.Add(1)
						abortedTids.Store(tid, true)
						return nil
					}
					if _, err := local.Exec(fmt.Sprintf("UPDATE acct SET bal = bal - %d WHERE id = %d; INSERT INTO xfer VALUES ('%s', 'debit', %d)", amount, from, tid, amount)); err != nil {
						return fail(err)
					}
					if err := tx.Join(e.names[b], remote); err != nil {
						return fail(err)
					}
					if _, err := remote.Exec(fmt.Sprintf("UPDATE acct SET bal = bal + %d WHERE id = %d; INSERT INTO xfer VALUES ('%s', 'credit', %d)", amount, to, tid, amount)); err != nil {
						return fail(err)
					}
					if clientAbort {
						abortedTids.Store(tid, true)
						out.aborted.Add(1)
						// A crash point in the rollback may fire: the
						// outcome is the same.
						_ = tx.Rollback(context.Background())
						return nil
					}
					err := tx.Commit(context.Background())
					switch {
					case err == nil:
						committedTids.Store(tid, true)
						out.committed.Add(1)
					case errors.Is(err, ErrInDoubt):
						out.inDoubt.Add(1)
					default:
						if crash == "" || strings.Contains(crash, "XA END") {
							abortedTids.Store(tid, true)
						}
						out.aborted.Add(1)
					}
					return nil
				}
				if err := run(); err != nil {
					t.Errorf("transfer %s: %v", tid, err)
				}
				if crash != "" {
					out.crashed.Add(1)
				}
				g.closeAll()
			}
		}()
	}
	wg.Wait()
	close(stop)
	recWG.Wait()

	final := e.recoverAll(co)
	t.Logf("committed %d, aborted %d, in doubt %d, statement errors %d, crash points %d; concurrent recovery: %d passes, %d claims; final recovery %+v",
		out.committed.Load(), out.aborted.Load(), out.inDoubt.Load(), out.stmtErr.Load(), out.crashed.Load(),
		recPasses.Load(), recClaims.Load(), final)

	var total int64
	legs := map[string]string{}
	for _, s := range e.names {
		v, _ := strconv.ParseInt(e.query(s, "SELECT SUM(bal) FROM "+e.db+".acct"), 10, 64)
		total += v
		for _, row := range strings.Split(e.query(s, "SELECT tid, leg FROM "+e.db+".xfer"), ";") {
			if row == "" {
				continue
			}
			f := strings.Fields(row)
			legs[f[0]] += f[1]
		}
	}
	if want := int64(3 * perSlice * initial); total != want {
		t.Errorf("total balance %d, want %d", total, want)
	}
	for tid, l := range legs {
		if l != "debitcredit" && l != "creditdebit" {
			t.Errorf("transfer %s half applied: %s", tid, l)
		}
		if _, ok := abortedTids.Load(tid); ok {
			t.Errorf("transfer %s rolled back but applied", tid)
		}
	}
	committedTids.Range(func(k, _ any) bool {
		if legs[k.(string)] == "" {
			t.Errorf("transfer %v committed but missing", k)
		}
		return true
	})
	for _, s := range e.names {
		if p := e.prepared(s); len(p) != 0 {
			t.Errorf("%s: prepared %v", s, p)
		}
	}
	if out.committed.Load() == 0 {
		t.Error("nothing committed")
	}
}
