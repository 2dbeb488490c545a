package xa

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// world is three fake slice primaries and a coordinator.
type world struct {
	t     *testing.T
	c     *Coordinator
	srv   map[string]*fakeServer
	names []string
}

func newWorld(t *testing.T, mod func(*Options)) *world {
	t.Helper()
	w := &world{t: t, srv: map[string]*fakeServer{}, names: []string{"s0", "s1", "s2"}}
	for _, n := range w.names {
		w.srv[n] = newFakeServer(n)
	}
	o := Options{Namespace: "shop", ProxyID: "p1", Slices: w.names, Grace: 10 * time.Millisecond,
		MaxDecisionDelay: time.Second, RollbackRetention: time.Hour}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	w.c = c
	return w
}

// conns returns fresh recovery connections to every slice.
func (w *world) conns() map[string]Conn {
	m := map[string]Conn{}
	for _, n := range w.names {
		m[n] = w.srv[n].conn()
	}
	return m
}

// begin starts a transaction on s0 that writes k=v on s0, s1 and s2.
func (w *world) begin(v string) (*Txn, map[string]*fakeConn) {
	w.t.Helper()
	fc := map[string]*fakeConn{}
	for _, n := range w.names {
		fc[n] = w.srv[n].conn()
	}
	mustExec(w.t, fc["s0"], "BEGIN")
	tx := w.c.Begin("s0", fc["s0"])
	mustExec(w.t, fc["s0"], "WRITE k "+v)
	for _, n := range w.names[1:] {
		if err := tx.Join(n, fc[n]); err != nil {
			w.t.Fatal(err)
		}
		mustExec(w.t, fc[n], "WRITE k "+v)
	}
	return tx, fc
}

func mustExec(t testing.TB, c Conn, sql string) {
	t.Helper()
	if _, err := c.Exec(sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// values returns k on every slice.
func (w *world) values() string {
	var out []string
	for _, n := range w.names {
		out = append(out, w.srv[n].get("k"))
	}
	return strings.Join(out, ",")
}

// noXA checks that no slice has an XA branch left.
func (w *world) noXA() {
	w.t.Helper()
	for _, n := range w.names {
		s := w.srv[n]
		s.mu.Lock()
		if len(s.xas) > 0 {
			w.t.Errorf("slice %s still has XA branches: %v", n, sortedKeys(s.xas))
		}
		s.mu.Unlock()
	}
}

// closeBroken closes the connections marked broken, as the pool does.
func closeBroken(fc map[string]*fakeConn) {
	for _, c := range fc {
		if c.isBroken() {
			c.Close()
		}
	}
}

func (w *world) recover() Report {
	w.t.Helper()
	r, err := w.c.Recover(context.Background(), w.conns())
	if err != nil {
		w.t.Fatalf("Recover: %v (%+v)", err, r)
	}
	return r
}

func TestGtrid(t *testing.T) {
	c, err := New(Options{Namespace: "shop:eu/1", ProxyID: "host-1"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.newGtrid("s:0é")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(g, "sy1:shop%3Aeu%2F1:s%3A0%C3%A9:host-1:") || len(g) > MaxXIDPart {
		t.Errorf("gtrid %q", g)
	}
	p, err := ParseGtrid(g)
	if err != nil || p.Namespace != "shop:eu/1" || p.DecisionSlice != "s:0é" || p.ProxyID != "host-1" || p.Seq == 0 {
		t.Errorf("ParseGtrid(%q) = %+v, %v", g, p, err)
	}
	g2, _ := c.newGtrid("s:0é")
	if p2, _ := ParseGtrid(g2); p2.Seq <= p.Seq {
		t.Errorf("counter did not increase: %q then %q", g, g2)
	}
	for _, bad := range []string{"", "sy1:a:b:c", "sy2:a:b:c:1", "sy1:a:b:c:zz!", "sy1:a:b%4:c:1", "sy1:a::c:1", "sy1:a:b':c:1"} {
		if _, err := ParseGtrid(bad); err == nil {
			t.Errorf("ParseGtrid(%q) succeeded", bad)
		}
	}
	if _, err := New(Options{Namespace: strings.Repeat("n", 60), ProxyID: "p"}); err == nil {
		t.Error("New accepted a namespace too long for a gtrid")
	}
	if _, err := c.newGtrid(strings.Repeat("s", 40)); err == nil {
		t.Error("newGtrid accepted a slice name too long for a gtrid")
	}
	if _, err := New(Options{}); err == nil {
		t.Error("New accepted an empty namespace")
	}
	if _, err := New(Options{Namespace: "n", MaxDecisionDelay: time.Hour, RollbackRetention: time.Hour}); err == nil {
		t.Error("New accepted RollbackRetention < 2*MaxDecisionDelay")
	}
}

func TestListPreparedParsing(t *testing.T) {
	s := newFakeServer("s0")
	s.xas["a|b"] = &fakeXA{gtrid: "sy1:x:s0:p:1", bqual: "s1", state: "PREPARED"}
	ps, err := listPrepared("s0", s.conn())
	if err != nil || len(ps) != 1 || ps[0].gtrid != "sy1:x:s0:p:1" || ps[0].bqual != "s1" || ps[0].formatID != FormatID {
		t.Fatalf("listPrepared = %+v, %v", ps, err)
	}
	bad := &stubConn{cols: []string{"formatID", "gtrid_length", "bqual_length", "data"}, rows: [][]string{{"1", "5", "5", "short"}}}
	if _, err := listPrepared("s0", bad); err == nil {
		t.Error("listPrepared accepted lengths beyond the data")
	}
}

type stubConn struct {
	cols []string
	rows [][]string
}

func (s *stubConn) Exec(string) (protocol.OK, error) { return protocol.OK{}, nil }
func (s *stubConn) QueryRows(string) ([]string, [][]string, error) {
	return s.cols, s.rows, nil
}

func TestLocalOnlyCommit(t *testing.T) {
	w := newWorld(t, nil)
	c := w.srv["s0"].conn()
	mustExec(t, c, "BEGIN")
	tx := w.c.Begin("s0", c)
	mustExec(t, c, "WRITE k 1")
	if err := tx.Savepoint("a"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if tx.Gtrid() != "" || w.srv["s0"].get("k") != "1" {
		t.Errorf("gtrid %q, k = %q", tx.Gtrid(), w.srv["s0"].get("k"))
	}
	if got := strings.Join(c.statements(), "|"); got != "BEGIN|WRITE k 1|SAVEPOINT `a`|COMMIT" {
		t.Errorf("statements: %s", got)
	}
	if s := w.c.Stats(); s.LocalCommits != 1 || s.XACommits != 0 {
		t.Errorf("stats %+v", s)
	}
	if err := tx.Commit(context.Background()); err != ErrDone {
		t.Errorf("second Commit: %v", err)
	}
}

func TestCommitAllPrepared(t *testing.T) {
	w := newWorld(t, nil)
	tx, fc := w.begin("1")
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := w.values(); got != "1,1,1" {
		t.Errorf("values %s", got)
	}
	w.noXA()
	g := tx.Gtrid()
	x := xid{gtrid: g, bqual: "s1"}.sql()
	want := []string{"XA START " + x, "WRITE k 1", "XA END " + x, "XA PREPARE " + x, "XA COMMIT " + x}
	if got := fc["s1"].statements(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("s1 statements\n got %q\nwant %q", got, want)
	}
	// Round trips: XA START, the write, END+PREPARE, COMMIT.
	if fc["s1"].trips != 4 || fc["s0"].trips != 3 {
		t.Errorf("round trips s0=%d s1=%d, want 3 and 4", fc["s0"].trips, fc["s1"].trips)
	}
	if d := w.srv["s0"].decisions(); d[g] != "commit" || len(d) != 1 {
		t.Errorf("decisions %v", d)
	}
	for _, c := range fc {
		if c.isBroken() {
			t.Error("a connection was marked broken")
		}
	}
	// The next commit deciding on s0 deletes the finished decision.
	tx2, _ := w.begin("2")
	if err := tx2.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := w.srv["s0"].decisions(); len(d) != 1 || d[tx2.Gtrid()] != "commit" {
		t.Errorf("decisions after the second commit %v", d)
	}
	if n, err := w.c.FlushCleanup("s0", w.srv["s0"].conn()); n != 1 || err != nil {
		t.Errorf("FlushCleanup = %d, %v", n, err)
	}
	if d := w.srv["s0"].decisions(); len(d) != 0 {
		t.Errorf("decisions after FlushCleanup %v", d)
	}
	if s := w.c.Stats(); s.XACommits != 2 || s.Aborts != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestPrepareFails(t *testing.T) {
	w := newWorld(t, nil)
	tx, fc := w.begin("1")
	fc["s2"].hook = func(c *fakeConn, stmt string) error {
		if strings.HasPrefix(stmt, "XA PREPARE") {
			return perr(1062, "23000", "Duplicate entry '7' for key 'PRIMARY'")
		}
		return nil
	}
	err := tx.Commit(context.Background())
	var pe *protocol.Error
	var be *BranchError
	if !errors.As(err, &pe) || pe.Code != 1062 || pe.State != "23000" || !errors.As(err, &be) || be.Slice != "s2" || be.Op != "XA PREPARE" {
		t.Fatalf("Commit = %v", err)
	}
	if ce := ClientError(err); ce != pe {
		t.Errorf("ClientError = %v", ce)
	}
	if got := w.values(); got != ",," {
		t.Errorf("values %q", got)
	}
	w.noXA()
	for _, n := range w.names {
		if d := w.srv[n].decisions(); len(d) != 0 {
			t.Errorf("decisions on %s: %v", n, d)
		}
	}
	// s1 was prepared: it is rolled back with XA ROLLBACK after a failed END.
	if got := fc["s1"].statements(); got[len(got)-1] != "XA ROLLBACK "+(xid{tx.Gtrid(), "s1"}).sql() {
		t.Errorf("s1 statements %q", got)
	}
	for _, c := range fc {
		if c.isBroken() {
			t.Error("a connection was marked broken")
		}
	}
}

func TestJoinFails(t *testing.T) {
	w := newWorld(t, nil)
	c0, c1 := w.srv["s0"].conn(), w.srv["s1"].conn()
	mustExec(t, c0, "BEGIN")
	mustExec(t, c1, "BEGIN") // not a fresh connection: XA START fails
	tx := w.c.Begin("s0", c0)
	err := tx.Join("s1", c1)
	if errCode(err) != 1400 {
		t.Fatalf("Join = %v", err)
	}
	if tx.Has("s1") || tx.Join("s0", c0) == nil {
		t.Error("Join of the local slice or failed join is a participant")
	}
	if err := tx.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := tx.Join("s2", w.srv["s2"].conn()); err != ErrDone {
		t.Errorf("Join after Rollback: %v", err)
	}
}

func TestDeadlockedBranch(t *testing.T) {
	w := newWorld(t, nil)
	tx, fc := w.begin("1")
	if _, err := fc["s1"].Exec("DEADLOCK"); errCode(err) != codeDeadlock {
		t.Fatal(err)
	}
	// Without SetRollbackOnly, PREPARE refuses the branch.
	err := tx.Commit(context.Background())
	if errCode(err) != codeXAERRmfail {
		t.Fatalf("Commit = %v", err)
	}
	w.noXA()
	if got := w.values(); got != ",," {
		t.Errorf("values %q", got)
	}

	tx, fc = w.begin("2")
	_, dl := fc["s2"].Exec("DEADLOCK")
	tx.SetRollbackOnly(dl)
	if err := tx.Commit(context.Background()); err != dl {
		t.Fatalf("Commit = %v", err)
	}
	w.noXA()
	if got := w.values(); got != ",," {
		t.Errorf("values %q", got)
	}
}

func TestLocalTransactionGone(t *testing.T) {
	w := newWorld(t, nil)
	// A finished transaction whose decision row the next commit deletes.
	first, _ := w.begin("0")
	if err := first.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	tx, fc := w.begin("1")
	// A deadlock rolled back the local transaction: the decision must not
	// be autocommitted.
	_, _ = fc["s0"].Exec("DEADLOCK")
	err := tx.Commit(context.Background())
	if errCode(err) != codeXARBRollback || !strings.Contains(err.Error(), "no longer open") {
		t.Fatalf("Commit = %v", err)
	}
	if got := w.values(); got != "0,0,0" {
		t.Errorf("values %q", got)
	}
	w.noXA()
	// The failed decision statement did not delete the finished row; it
	// is still queued.
	if d := w.srv["s0"].decisions(); len(d) != 1 || d[first.Gtrid()] != "commit" {
		t.Errorf("decisions %v", d)
	}
	if n, err := w.c.FlushCleanup("s0", w.srv["s0"].conn()); n != 1 || err != nil {
		t.Errorf("FlushCleanup = %d, %v", n, err)
	}
}

func TestRollback(t *testing.T) {
	w := newWorld(t, nil)
	tx, fc := w.begin("1")
	if err := tx.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.noXA()
	if got := w.values(); got != ",," {
		t.Errorf("values %q", got)
	}
	for _, c := range fc {
		if c.isBroken() {
			t.Error("a connection was marked broken")
		}
		// Every connection is out of its transaction and reusable.
		mustExec(t, c, "BEGIN")
	}
	if tx.Commit(context.Background()) != ErrDone {
		t.Error("Commit after Rollback")
	}
}

func TestSavepoints(t *testing.T) {
	w := newWorld(t, nil)
	c0, c1, c2 := w.srv["s0"].conn(), w.srv["s1"].conn(), w.srv["s2"].conn()
	mustExec(t, c0, "BEGIN")
	tx := w.c.Begin("s0", c0)
	mustExec(t, c0, "WRITE a 1")
	if err := tx.Savepoint("sp1"); err != nil {
		t.Fatal(err)
	}
	// s1 joins after sp1: it gets sp1 too, in the same round trip.
	if err := tx.Join("s1", c1); err != nil {
		t.Fatal(err)
	}
	if got := c1.statements(); len(got) != 2 || got[1] != "SAVEPOINT `sp1`" || c1.trips != 1 {
		t.Errorf("s1 statements %q (%d round trips)", got, c1.trips)
	}
	mustExec(t, c1, "WRITE b 1")
	if err := tx.Savepoint("Sp`2"); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c0, "WRITE c 1")
	mustExec(t, c1, "WRITE d 1")
	if err := tx.Join("s2", c2); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c2, "WRITE e 1")
	if err := tx.RollbackTo("sp`2"); err != nil { // names are case-insensitive
		t.Fatal(err)
	}
	if err := tx.Release("SP1"); err != nil {
		t.Fatal(err)
	}
	if err := tx.RollbackTo("sp`2"); errCode(err) != codeSPNotExist {
		t.Errorf("RollbackTo a released savepoint = %v", err)
	}
	if err := tx.RollbackTo("nope"); errCode(err) != codeSPNotExist {
		t.Errorf("RollbackTo unknown = %v", err)
	}
	if tx.RollbackOnly() != nil {
		t.Fatal("an unknown savepoint doomed the transaction")
	}
	mustExec(t, c2, "WRITE f 1")
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := strings.Join([]string{w.srv["s0"].get("a"), w.srv["s0"].get("c"), w.srv["s1"].get("b"), w.srv["s1"].get("d"),
		w.srv["s2"].get("e"), w.srv["s2"].get("f")}, ",")
	if got != "1,,1,,,1" {
		t.Errorf("a c b d e f = %q, want a, b and f written", got)
	}
}

func TestSavepointFailureDooms(t *testing.T) {
	w := newWorld(t, nil)
	tx, fc := w.begin("1")
	fc["s2"].hook = func(c *fakeConn, stmt string) error {
		if strings.HasPrefix(stmt, "SAVEPOINT") {
			return errCrash
		}
		return nil
	}
	if err := tx.Savepoint("x"); err == nil {
		t.Fatal("Savepoint succeeded")
	}
	if err := tx.Commit(context.Background()); err == nil || tx.RollbackOnly() == nil {
		t.Fatalf("Commit after a failed savepoint = %v", err)
	}
	closeBroken(fc)
	w.noXA()
	if got := w.values(); got != ",," {
		t.Errorf("values %q", got)
	}
}

// The local COMMIT that carries the decision is lost: after it ran, or
// before. Either way Commit reports ErrInDoubt and Recover settles it the
// way the decision table says.
func TestLocalCommitLost(t *testing.T) {
	for _, tc := range []struct {
		name     string
		hookErr  error
		want     string
		decision string
	}{
		{"after commit", errLostAfter, "1,1,1", "commit"},
		{"before commit", errCrash, ",,", "rollback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, nil)
			tx, fc := w.begin("1")
			fc["s0"].hook = func(c *fakeConn, stmt string) error {
				if stmt == "COMMIT" {
					return tc.hookErr
				}
				return nil
			}
			err := tx.Commit(context.Background())
			var id *InDoubtError
			if !errors.Is(err, ErrInDoubt) || !errors.As(err, &id) || id.Gtrid != tx.Gtrid() {
				t.Fatalf("Commit = %v", err)
			}
			if ce := ClientError(err); ce.Code != protocol.ErrLostBackend {
				t.Errorf("ClientError = %v", ce)
			}
			for n, c := range fc {
				if !c.isBroken() && n != "s0" {
					t.Errorf("connection to %s not marked broken", n)
				}
			}
			// Prepared branches stay attached until the pool closes them
			// (recovery claims the rollback of the lost decision already).
			if r := w.recover(); r.Busy != 2 || r.Committed+r.RolledBack != 0 {
				t.Errorf("Recover with attached branches: %+v", r)
			}
			closeBroken(fc)
			if got := len(w.srv["s1"].prepared()) + len(w.srv["s2"].prepared()); got != 2 {
				t.Fatalf("%d branches prepared, want 2", got)
			}
			p, err := w.c.Pending(context.Background(), w.conns())
			if err != nil || len(p) != 1 || p[0].Gtrid != tx.Gtrid() || strings.Join(p[0].Branches, ",") != "s1,s2" ||
				p[0].DecisionSlice != "s0" || p[0].ProxyID != "p1" {
				t.Fatalf("Pending = %+v, %v", p, err)
			}
			if tc.decision == "commit" && (p[0].Decision != "commit" || !strings.HasPrefix(p[0].Fate, "committed")) ||
				tc.decision == "rollback" && (p[0].Decision != "rollback" || !strings.HasPrefix(p[0].Fate, "rolled back")) {
				t.Errorf("Pending = %+v", p[0])
			}
			time.Sleep(20 * time.Millisecond) // Grace
			r := w.recover()
			if tc.decision == "commit" && r.Committed != 2 || tc.decision == "rollback" && r.RolledBack != 2 {
				t.Errorf("Recover: %+v", r)
			}
			if got := w.values(); got != tc.want {
				t.Errorf("values %q, want %q", got, tc.want)
			}
			w.noXA()
			if s := w.c.Stats(); s.InDoubt != 1 || tc.decision == "rollback" && s.Claims != 1 {
				t.Errorf("stats %+v", s)
			}
			// Garbage collection: commit rows once settled (by the pass
			// that settled them), rollback rows after RollbackRetention.
			w.recover()
			if tc.decision == "rollback" {
				if d := w.srv["s0"].decisions(); d[tx.Gtrid()] != "rollback" {
					t.Errorf("decisions %v", d)
				}
				w.srv["s0"].now = func() time.Time { return time.Now().Add(2 * time.Hour) }
				if r := w.recover(); r.DecisionsDeleted != 1 {
					t.Errorf("Recover after the retention: %+v", r)
				}
			}
			if d := w.srv["s0"].decisions(); len(d) != 0 {
				t.Errorf("decisions left %v", d)
			}
		})
	}
}

// A branch's XA COMMIT fails after the decision: the transaction is
// committed (Commit returns nil) and Recover finishes the branch.
func TestCommitPhaseFailure(t *testing.T) {
	w := newWorld(t, nil)
	tx, fc := w.begin("1")
	fc["s2"].hook = func(c *fakeConn, stmt string) error {
		if strings.HasPrefix(stmt, "XA COMMIT") {
			return errCrash
		}
		return nil
	}
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if u := tx.Unfinished(); len(u) != 1 || u[0] != "s2" || !fc["s2"].isBroken() {
		t.Errorf("Unfinished = %v", u)
	}
	if got := w.values(); got != "1,1," {
		t.Errorf("values %q", got)
	}
	time.Sleep(20 * time.Millisecond)
	if r := w.recover(); r.Committed != 1 || r.Claims != 0 {
		t.Errorf("Recover: %+v", r)
	}
	if got := w.values(); got != "1,1,1" {
		t.Errorf("values after Recover %q", got)
	}
	w.noXA()
	w.recover()
	if d := w.srv["s0"].decisions(); len(d) != 0 {
		t.Errorf("decisions left %v", d)
	}
	if s := w.c.Stats(); s.CommitPhaseFailures != 1 || s.RecoveredCommit != 1 {
		t.Errorf("stats %+v", s)
	}
}

// A proxy crashes after PREPARE, before writing its decision: another
// coordinator (another proxy) rolls everything back.
func TestCrashBeforeDecisionOtherProxyRecovers(t *testing.T) {
	w := newWorld(t, nil)
	tx, fc := w.begin("1")
	fc["s0"].hook = func(c *fakeConn, stmt string) error {
		if strings.HasPrefix(stmt, "INSERT") {
			for _, c := range fc {
				if c != fc["s0"] {
					c.Close()
				}
			}
			return errCrash
		}
		return nil
	}
	if err := tx.Commit(context.Background()); !errors.Is(err, ErrInDoubt) {
		t.Fatalf("Commit = %v", err)
	}
	other, err := New(Options{Namespace: "shop", ProxyID: "p2", Slices: w.names, Grace: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r, err := other.Recover(context.Background(), w.conns())
	if err != nil || r.RolledBack != 2 || r.Claims != 1 {
		t.Fatalf("Recover = %+v, %v", r, err)
	}
	w.noXA()
	if got := w.values(); got != ",," {
		t.Errorf("values %q", got)
	}
	// A coordinator of another namespace leaves everything alone.
	tx, fc = w.begin("2")
	fc["s0"].hook = func(c *fakeConn, stmt string) error {
		if strings.HasPrefix(stmt, "INSERT") {
			return errCrash
		}
		return nil
	}
	_ = tx.Commit(context.Background())
	closeBroken(fc)
	stranger, _ := New(Options{Namespace: "other", Grace: time.Millisecond})
	r, err = stranger.Recover(context.Background(), w.conns())
	if err != nil || r.Prepared != 0 || r.Foreign != 2 {
		t.Fatalf("other namespace Recover = %+v, %v", r, err)
	}
	w.recover()
	w.noXA()
}

// The owner has inserted its commit decision and is slow to COMMIT:
// recovery's claim waits on the row lock and finds the commit.
func TestClaimRaceOwnerCommits(t *testing.T) {
	w := newWorld(t, nil)
	tx, fc := w.begin("1")
	release := make(chan struct{})
	reached := make(chan struct{})
	fc["s0"].hook = func(c *fakeConn, stmt string) error {
		if stmt == "COMMIT" {
			close(reached)
			<-release
		}
		return nil
	}
	done := make(chan error)
	go func() { done <- tx.Commit(context.Background()) }()
	<-reached
	type res struct {
		r   Report
		err error
	}
	rec := make(chan res)
	go func() {
		r, err := w.c.Recover(context.Background(), w.conns())
		rec <- res{r, err}
	}()
	waitFor(t, func() bool { return w.srv["s0"].lockWaiters() > 0 })
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Commit = %v", err)
	}
	got := <-rec
	if got.err != nil || got.r.Claims != 0 || got.r.RolledBack != 0 || got.r.Busy != 2 {
		t.Errorf("Recover = %+v, %v", got.r, got.err)
	}
	if v := w.values(); v != "1,1,1" {
		t.Errorf("values %q", v)
	}
	w.noXA()
}

// The owner has inserted its commit decision, then its local transaction
// rolls back: recovery's claim wins once the lock is gone.
func TestClaimRaceOwnerRollsBack(t *testing.T) {
	w := newWorld(t, nil)
	tx, fc := w.begin("1")
	release := make(chan struct{})
	reached := make(chan struct{})
	fc["s0"].hook = func(c *fakeConn, stmt string) error {
		if stmt == "COMMIT" {
			close(reached)
			<-release
			return perr(1180, "HY000", "Got error 1 during COMMIT")
		}
		return nil
	}
	done := make(chan error)
	go func() { done <- tx.Commit(context.Background()) }()
	<-reached
	rec := make(chan Report)
	go func() {
		r, _ := w.c.Recover(context.Background(), w.conns())
		rec <- r
	}()
	waitFor(t, func() bool { return w.srv["s0"].lockWaiters() > 0 })
	// The failed COMMIT rolls back (the fake's COMMIT hook error leaves
	// the transaction open; the coordinator's ROLLBACK ends it).
	close(release)
	err := <-done
	if errCode(err) != 1180 {
		t.Fatalf("Commit = %v", err)
	}
	r := <-rec
	if r.Claims != 1 {
		t.Errorf("Recover = %+v", r)
	}
	if v := w.values(); v != ",," {
		t.Errorf("values %q", v)
	}
	w.noXA()
	if d := w.srv["s0"].decisions(); d[tx.Gtrid()] != "rollback" {
		t.Errorf("decisions %v", d)
	}
}

// Recovery claims first (the owner stalls between PREPARE and its decision):
// the owner's INSERT finds the rollback and the owner rolls back.
func TestClaimRaceRecoveryFirst(t *testing.T) {
	w := newWorld(t, nil)
	tx, fc := w.begin("1")
	release := make(chan struct{})
	reached := make(chan struct{})
	fc["s0"].hook = func(c *fakeConn, stmt string) error {
		if strings.HasPrefix(stmt, "INSERT") {
			close(reached)
			<-release
		}
		return nil
	}
	done := make(chan error)
	go func() { done <- tx.Commit(context.Background()) }()
	<-reached
	r := w.recover()
	if r.Claims != 1 || r.Busy != 2 {
		t.Errorf("Recover = %+v", r)
	}
	close(release)
	err := <-done
	if errCode(err) != codeXARBRollback || !strings.Contains(err.Error(), "recovery rolled back") {
		t.Fatalf("Commit = %v", err)
	}
	if v := w.values(); v != ",," {
		t.Errorf("values %q", v)
	}
	w.noXA()
}

// The owner holds its decision row lock longer than the claim waits: the
// claim gives up and a later pass finds the outcome.
func TestClaimTimesOut(t *testing.T) {
	w := newWorld(t, nil)
	tx, fc := w.begin("1")
	release := make(chan struct{})
	reached := make(chan struct{})
	fc["s0"].hook = func(c *fakeConn, stmt string) error {
		if stmt == "COMMIT" {
			close(reached)
			<-release
		}
		return nil
	}
	done := make(chan error)
	go func() { done <- tx.Commit(context.Background()) }()
	<-reached
	conns := w.conns()
	r, err := w.c.Recover(context.Background(), conns)
	if err != nil || r.Claims != 0 || r.Busy != 2 {
		t.Errorf("Recover = %+v, %v", r, err)
	}
	// The claim's lock wait was put back.
	if lw := conns["s0"].(*fakeConn).lockWait; lw != "50" {
		t.Errorf("innodb_lock_wait_timeout left at %s", lw)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v := w.values(); v != "1,1,1" {
		t.Errorf("values %q", v)
	}
}

// Recover leaves young branches and other transactions alone.
func TestRecoverLeavesYoungAndForeign(t *testing.T) {
	w := newWorld(t, func(o *Options) { o.Grace = time.Hour; o.RollbackRetention = 3 * time.Hour })
	tx, fc := w.begin("1")
	fc["s0"].hook = func(c *fakeConn, stmt string) error {
		if strings.HasPrefix(stmt, "INSERT") {
			return errCrash
		}
		return nil
	}
	_ = tx.Commit(context.Background())
	closeBroken(fc)
	w.srv["s1"].xas["f"] = &fakeXA{gtrid: "foreign-1", bqual: "b", state: "PREPARED"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	r, err := w.c.Recover(ctx, w.conns())
	if !errors.Is(err, context.DeadlineExceeded) || r.RolledBack+r.Committed+r.Claims != 0 {
		t.Errorf("Recover = %+v, %v", r, err)
	}
	if n := len(w.srv["s1"].prepared()) + len(w.srv["s2"].prepared()); n != 3 {
		t.Errorf("%d prepared", n)
	}
	p, err := w.c.Pending(context.Background(), w.conns())
	if err != nil || len(p) != 2 || p[0].FirstSeen.IsZero() || p[0].Decision != "" || !strings.HasPrefix(p[0].Fate, "undecided") || !p[1].Foreign || p[1].Gtrid != "foreign-1" || p[1].FormatID != 1 {
		t.Errorf("Pending = %+v, %v", p, err)
	}
}

// Without a connection to every slice, Recover still resolves what it can
// but deletes no decision row.
func TestRecoverMissingSlice(t *testing.T) {
	w := newWorld(t, nil)
	tx, fc := w.begin("1")
	fc["s2"].hook = func(c *fakeConn, stmt string) error {
		if strings.HasPrefix(stmt, "XA COMMIT") {
			return errCrash
		}
		return nil
	}
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	conns := w.conns()
	delete(conns, "s2")
	r, err := w.c.Recover(context.Background(), conns)
	if err == nil || r.DecisionsDeleted != 0 || r.Prepared != 0 {
		t.Errorf("Recover without s2 = %+v, %v", r, err)
	}
	if len(w.srv["s0"].decisions()) != 1 {
		t.Error("the decision row was deleted although s2 was not checked")
	}
	if r := w.recover(); r.Committed != 1 {
		t.Errorf("Recover = %+v", r)
	}
}

func TestSlowPrepareRollsBack(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	w := newWorld(t, func(o *Options) {
		o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	})
	tx, fc := w.begin("1")
	fc["s1"].hook = func(c *fakeConn, stmt string) error {
		if strings.HasPrefix(stmt, "XA PREPARE") {
			mu.Lock()
			now = now.Add(time.Minute)
			mu.Unlock()
		}
		return nil
	}
	if err := tx.Commit(context.Background()); errCode(err) != codeXARBRollback {
		t.Fatalf("Commit = %v", err)
	}
	w.noXA()
	if v := w.values(); v != ",," {
		t.Errorf("values %q", v)
	}
}

func TestEnsure(t *testing.T) {
	w := newWorld(t, nil)
	conns := w.conns()
	if err := w.c.Ensure(conns); err != nil {
		t.Fatal(err)
	}
	got := conns["s0"].(*fakeConn).statements()
	if len(got) != 2 || got[0] != "CREATE DATABASE IF NOT EXISTS `switchyard`" ||
		!strings.HasPrefix(got[1], "CREATE TABLE IF NOT EXISTS `switchyard`.`xa_decisions` (") {
		t.Errorf("statements %q", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}
